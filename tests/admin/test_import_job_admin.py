"""The import jobs admin: the add form, the read-only detail page, its controls and its JSON status."""

import json

import factory
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product
from imports import revert, services
from imports.choices import ImportStatus, LogLevel
from imports.models import ImportJob, SupplierMapping
from tests.imports.helpers import run_import

from ..factories import (
    ImportJobFactory,
    ImportLogFactory,
    ProductFactory,
    SupplierMappingFactory,
    UserFactory,
    ean13,
)

CSV = (
    "EAN,Titre,Prix HT,Marque\n"
    f"{ean13(1)},Chaise,29.99,Acme\n"
    f'{ean13(2)},Table,"1 234,50",Acme\n'
    "123ABC,Lampe,9.90,Acme\n"
).encode()

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:imports_importjob_add")


def upload(name="catalog.csv", content=CSV):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def change_url(job):
    return reverse("admin:imports_importjob_change", args=[job.pk])


def make_job(status=ImportStatus.PROCESSING, **fields):
    return ImportJobFactory(file_name="catalog.csv", status=status, **fields)


@pytest.fixture
def ready_job(admin_user):
    """A dry run analysed in this process: status ready, file kept, logs written."""
    job = services.import_job_create(
        user=admin_user, file=upload(), supplier_code="SUP", dry_run=True, enqueue=False
    )
    return services.import_job_run(job_id=job.pk)


# --- add --------------------------------------------------------------------------------------


def test_add_form_creates_the_job_through_the_service_and_queues_it(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            ADD_URL,
            {
                "file": upload(),
                "supplier_code": " SUP ",
                "dry_run": "on",
                "mapping": '{"Titre": "name"}',
                "max_errors": "3",
            },
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(job)
    assert (job.file_name, job.file_type, job.supplier_code) == ("catalog.csv", "csv", "SUP")
    assert (job.dry_run, job.max_errors, job.requested_mapping) == (True, 3, {"Titre": "name"})
    assert job.created_by == admin_user and job.status == ImportStatus.PENDING
    assert len(callbacks) == 1  # the analysis task, sent once the upload is committed


def test_add_form_starts_as_a_dry_run(admin_client):
    response = admin_client.get(ADD_URL)
    form = response.context["adminform"].form
    assert form["dry_run"].value() is True
    assert 'accept=".csv' in response.content.decode()
    assert "Upload and analyse" in response.content.decode()


def test_add_form_shows_a_rejected_upload_as_a_form_error(admin_client):
    response = admin_client.post(ADD_URL, {"file": upload("catalog.pdf")})
    assert response.status_code == 200
    assert "unsupported extension" in str(response.context["adminform"].form.errors["file"])
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [('{"EAN": "barcode"}', "is not a product field"), ("{not json", "Enter a valid JSON")],
)
def test_add_form_validates_the_mapping(admin_client, mapping, message):
    response = admin_client.post(ADD_URL, {"file": upload(), "mapping": mapping})
    assert message in str(response.context["adminform"].form.errors["mapping"])
    assert not ImportJob.objects.exists()


def test_add_form_shows_a_too_large_upload_as_a_form_error(admin_client, settings):
    settings.PIXEE_MAX_UPLOAD_MB = 0
    response = admin_client.post(ADD_URL, {"file": upload()})
    assert "the limit is 0 MB" in str(response.context["adminform"].form.errors["file"])
    assert not ImportJob.objects.exists()


# --- list -------------------------------------------------------------------------------------


def test_list_shows_status_badges_progress_and_counters(admin_client):
    make_job(total_rows=10, processed_rows=5, products_created=3, failed_rows=2)
    make_job(status=ImportStatus.COMPLETED, total_rows=4, products_updated=4)
    html = admin_client.get(reverse("admin:imports_importjob_changelist")).content.decode()
    assert 'class="pixee-badge pixee-badge--processing"' in html
    assert 'class="pixee-badge pixee-badge--completed"' in html
    assert "width: 75%" in html and "width: 100%" in html
    assert 'data-field="failed_rows">2<' in html


def test_list_search_finds_a_job_by_id_file_name_or_supplier(admin_client):
    wanted = make_job(supplier_code="ACME")
    make_job(supplier_code="OTHER")
    url = reverse("admin:imports_importjob_changelist")
    for term in (str(wanted.pk), "ACME"):
        assert list(admin_client.get(url, {"q": term}).context["cl"].result_list) == [wanted]


def test_list_filters_by_status_and_supplier(admin_client):
    wanted = make_job(status=ImportStatus.FAILED, supplier_code="ACME")
    make_job(status=ImportStatus.FAILED, supplier_code="OTHER")
    make_job(status=ImportStatus.COMPLETED, supplier_code="ACME")
    url = reverse("admin:imports_importjob_changelist")
    response = admin_client.get(url, {"status__exact": "failed", "supplier_code": "ACME"})
    assert list(response.context["cl"].result_list) == [wanted]


# --- detail -----------------------------------------------------------------------------------


def test_detail_page_shows_the_preview_counters_and_logs_of_a_ready_dry_run(admin_client, ready_job):
    response = admin_client.get(change_url(ready_job))
    html = response.content.decode()
    assert ready_job.status == ImportStatus.READY
    assert 'name="_save"' not in html  # read-only: the worker owns these fields
    assert response.context["preview_columns"][:4] == ["ean", "name", "price", "brand"]
    assert [ean13(1), "Chaise", "29.99", "Acme"] == response.context["preview_rows"][0]
    assert "EAN format invalid" in html  # the third row's validation error
    assert 'data-field="products_created">2<' in html
    assert "Dry run ready" in html  # a milestone log
    assert f"/api/v1/imports/jobs/{ready_job.pk}/errors.csv" in html
    assert "data-live" not in html  # a ready job does not poll


def test_detail_page_of_a_running_job_refreshes_itself(admin_client):
    job = make_job(status=ImportStatus.ANALYZING)
    html = admin_client.get(change_url(job)).content.decode()
    assert "data-live" in html
    assert reverse("admin:imports_importjob_status", args=[job.pk]) in html
    assert "pixee/import_job.js" in html


def test_detail_page_says_why_there_is_no_preview(admin_client):
    job = make_job(status=ImportStatus.CANCELLED)  # its stored file was discarded
    html = admin_client.get(change_url(job)).content.decode()
    assert "stored file was discarded" in html


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (ImportStatus.PENDING, {"pause", "cancel"}),
        (ImportStatus.ANALYZING, {"pause", "cancel"}),
        (ImportStatus.READY, {"confirm", "cancel"}),
        (ImportStatus.PROCESSING, {"pause", "cancel"}),
        (ImportStatus.PAUSED, {"resume", "cancel"}),
        (ImportStatus.COMPLETED, set()),
        (ImportStatus.FAILED, set()),
        (ImportStatus.CANCELLED, set()),
    ],
)
def test_control_buttons_follow_the_state_machine(admin_client, status, buttons):
    html = admin_client.get(change_url(make_job(status=status))).content.decode()
    shown = {a for a in ("confirm", "pause", "resume", "cancel") if f"pixee-button--{a}" in html}
    assert shown == buttons


def test_logs_filter_by_level_and_paginate(admin_client):
    job = make_job(status=ImportStatus.COMPLETED)
    ImportLogFactory.create_batch(60, job=job, row_number=factory.Iterator(range(2, 62)))
    ImportLogFactory(job=job, row_number=None, level=LogLevel.INFO, field="", message="Import completed")
    errors = admin_client.get(change_url(job), {"log_level": "error"}).context["logs"]
    assert (errors.paginator.count, errors.paginator.num_pages, len(errors)) == (60, 2, 50)
    assert errors[0].row_number == 2
    second = admin_client.get(change_url(job), {"log_level": "error", "log_page": 2}).context["logs"]
    assert [log.row_number for log in second] == list(range(52, 62))
    everything = admin_client.get(change_url(job), {"log_level": "bogus"}).context["logs"]
    assert everything.paginator.count == 61
    assert everything[0].message == "Import completed"  # milestones first, then file order


def test_the_change_form_cannot_be_saved(admin_client):
    job = make_job()
    assert admin_client.post(change_url(job), {"supplier_code": "X"}).status_code == 403


# --- controls ---------------------------------------------------------------------------------


def action_url(job, action):
    return reverse(f"admin:imports_importjob_{action}", args=[job.pk])


def test_pause_button_pauses_through_the_service(admin_client):
    job = make_job(status=ImportStatus.PROCESSING)
    response = admin_client.post(action_url(job, "pause"), follow=True)
    job.refresh_from_db()
    assert (job.status, job.paused_from) == (ImportStatus.PAUSED, ImportStatus.PROCESSING)
    assert response.redirect_chain[-1][0] == change_url(job)
    assert "Import paused." in response.content.decode()
    assert job.logs.filter(message="Paused by the user.").exists()


def test_confirm_turns_a_ready_dry_run_into_processing(
    admin_client, ready_job, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(action_url(ready_job, "confirm"))
    ready_job.refresh_from_db()
    assert ready_job.status == ImportStatus.PROCESSING
    assert len(callbacks) == 1  # the processing task


def test_a_refused_action_shows_the_conflict(admin_client):
    job = make_job(status=ImportStatus.COMPLETED)
    response = admin_client.post(action_url(job, "cancel"), follow=True)
    job.refresh_from_db()
    assert job.status == ImportStatus.COMPLETED
    assert "Cannot cancel a job that is completed." in response.content.decode()


def test_actions_need_a_post(admin_client):
    job = make_job(status=ImportStatus.PROCESSING)
    assert admin_client.get(action_url(job, "cancel")).status_code == 405
    job.refresh_from_db()
    assert job.status == ImportStatus.PROCESSING


def test_actions_need_csrf(admin_user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    job = make_job(status=ImportStatus.PROCESSING)
    assert client.post(action_url(job, "pause")).status_code == 403


def test_actions_need_the_change_permission(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    client.force_login(viewer)
    job = make_job(status=ImportStatus.PROCESSING)
    assert "pixee-button--pause" not in client.get(change_url(job)).content.decode()
    assert client.post(action_url(job, "pause")).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportStatus.PROCESSING


# --- status endpoint --------------------------------------------------------------------------


def test_status_endpoint_answers_the_job_as_json(admin_client):
    job = make_job(status=ImportStatus.PROCESSING, total_rows=10, processed_rows=5)
    data = admin_client.get(reverse("admin:imports_importjob_status", args=[job.pk])).json()
    assert data["id"] == str(job.pk)
    assert (data["status"], data["status_label"], data["progress"], data["running"]) == (
        "processing",
        "Processing",
        75,
        True,
    )


def test_status_endpoint_is_for_staff_only(client):
    job = make_job()
    url = reverse("admin:imports_importjob_status", args=[job.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(is_staff=False))
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(is_staff=True))  # staff, but no permission on jobs
    assert client.get(url).status_code == 403


def test_a_completed_job_shows_what_changed_and_reverts_after_a_confirmation(admin_client):
    ProductFactory(ean=ean13(1), name="Old name")
    job = run_import(f"ean;name\n{ean13(1)};New name\n{ean13(2)};Created\n")
    html = admin_client.get(change_url(job)).content.decode()
    assert "What changed" in html
    assert "<del>Old name</del> → <ins>New name</ins>" in html
    assert "Revert this import" in html

    revert_url = reverse("admin:imports_importjob_revert", args=[job.pk])
    confirmation = admin_client.get(revert_url).content.decode()
    assert "<strong>1</strong> product it updated" in confirmation
    assert "<strong>1</strong> product it created" in confirmation
    assert Product.objects.get(ean=ean13(1)).name == "New name"  # nothing happens on GET

    response = admin_client.post(revert_url)
    assert response.status_code == 302
    revert.run(job.pk)
    assert Product.objects.get(ean=ean13(1)).name == "Old name"
    assert not Product.objects.filter(ean=ean13(2)).exists()
    html = admin_client.get(change_url(job)).content.decode()
    assert "Reverted on" in html and "Revert this import" not in html


# --- reanalyze --------------------------------------------------------------------------------


def reanalyze_url(job):
    return reverse("admin:imports_importjob_reanalyze", args=[job.pk])


def test_a_ready_job_offers_reanalyze_next_to_its_preview(admin_client, ready_job):
    html = admin_client.get(change_url(ready_job)).content.decode()
    preview = html[html.index('id="preview"') : html.index('id="logs"')]
    assert reanalyze_url(ready_job) in preview

    page = admin_client.get(reanalyze_url(ready_job))
    form = page.context["form"]
    # The edit starts from what the analysis made of each column.
    assert json.loads(form["mapping"].value()) == ready_job.mapping
    assert ready_job.mapping["Titre"] == "name" and form["on_invalid_value"].value() == "skip_row"
    assert page.context["columns"] == ["EAN", "Titre", "Prix HT", "Marque"]
    html = page.content.decode()
    assert "<code>Prix HT</code>" in html
    assert f'<a href="{change_url(ready_job)}">catalog.csv (ready)</a>\n  › Reanalyze' in html


def test_reanalyze_reruns_the_analysis_with_the_edited_mapping(
    admin_client, ready_job, django_capture_on_commit_callbacks
):
    mapping = '{"EAN": "ean", "Titre": "name", "Marque": "", "Prix HT": "price"}'
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            reanalyze_url(ready_job), {"mapping": mapping, "on_invalid_value": "skip_value"}
        )
    assert response.status_code == 302 and response["Location"] == change_url(ready_job)
    assert len(callbacks) == 1  # the analysis task, through the API's service
    ready_job.refresh_from_db()
    assert (ready_job.status, ready_job.on_invalid_value) == (ImportStatus.PENDING, "skip_value")
    assert ready_job.requested_mapping["Marque"] == ""
    job = services.import_job_run(job_id=ready_job.pk)
    assert (job.status, job.mapping_sources["Titre"]) == (ImportStatus.READY, "explicit")
    assert "Marque" not in job.mapping.values() and job.mapping["Marque"] == ""
    messages = [str(m) for m in admin_client.get(change_url(job)).context["messages"]]
    assert messages == ["Re-analysis queued with the new mapping; the counters below follow it."]


def test_reanalyze_form_refuses_an_invalid_mapping(admin_client, ready_job):
    response = admin_client.post(
        reanalyze_url(ready_job), {"mapping": '{"EAN": "barcode"}', "on_invalid_value": "skip_row"}
    )
    assert response.status_code == 200
    assert "is not a product field" in str(response.context["form"].errors["mapping"])
    ready_job.refresh_from_db()
    assert ready_job.status == ImportStatus.READY


def test_a_failed_job_that_wrote_nothing_offers_reanalyze(admin_client, admin_user):
    # Half of Code's values are GTINs: not enough to take it for the EAN column unasked.
    job = run_import(f"Code,Titre\n{ean13(5)},Vase\nV-6,Pot\n", user=admin_user)
    assert job.status == ImportStatus.FAILED and job.error_summary.startswith("No column maps to ean.")
    assert reanalyze_url(job) in admin_client.get(change_url(job)).content.decode()
    admin_client.post(reanalyze_url(job), {"mapping": '{"Code": "ean"}', "on_invalid_value": "skip_row"})
    job = services.import_job_run(job_id=job.pk)
    assert (job.status, job.products_created, job.failed_rows) == (ImportStatus.COMPLETED, 1, 1)
    assert Product.objects.get(ean=ean13(5)).name == "Vase"


@pytest.mark.parametrize(
    ("status", "fields", "message"),
    [
        (ImportStatus.COMPLETED, {}, "Cannot reanalyze a job that is completed"),
        (ImportStatus.FAILED, {"processed_rows": 3, "failed_rows": 1}, "already wrote products"),
    ],
)
def test_reanalyze_is_not_offered_where_the_service_refuses_it(admin_client, status, fields, message):
    job = run_import(CSV)
    ImportJob.objects.filter(pk=job.pk).update(status=status, **fields)
    assert reanalyze_url(job) not in admin_client.get(change_url(job)).content.decode()
    response = admin_client.get(reanalyze_url(job), follow=True)
    assert message in response.content.decode()
    response = admin_client.post(
        reanalyze_url(job), {"mapping": "{}", "on_invalid_value": "skip_row"}, follow=True
    )
    assert message in response.content.decode()
    job.refresh_from_db()
    assert job.status == status


def test_reanalyze_needs_the_change_permission(client, ready_job):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    client.force_login(viewer)
    assert reanalyze_url(ready_job) not in client.get(change_url(ready_job)).content.decode()
    assert client.get(reanalyze_url(ready_job)).status_code == 403
    assert client.post(reanalyze_url(ready_job), {"mapping": "{}"}).status_code == 403


def test_add_form_passes_on_invalid_value_or_leaves_it_to_the_supplier(admin_client, admin_user):
    SupplierMappingFactory(
        created_by=admin_user, supplier_code="SUP", mapping={}, on_invalid_value="skip_value"
    )
    admin_client.post(ADD_URL, {"file": upload(), "supplier_code": "SUP"})
    admin_client.post(ADD_URL, {"file": upload(), "supplier_code": "SUP", "on_invalid_value": "skip_row"})
    assert sorted(ImportJob.objects.values_list("on_invalid_value", flat=True)) == ["skip_row", "skip_value"]


# --- supplier mappings --------------------------------------------------------------------------


def test_supplier_mappings_are_edited_with_the_apis_checks(admin_client, admin_user):
    add = reverse("admin:imports_suppliermapping_add")
    fields = {"created_by": admin_user.pk, "supplier_code": "ACME", "on_invalid_value": "skip_value"}
    refused = admin_client.post(add, {**fields, "mapping": '{"Artikel": "colour"}'})
    assert "is not a product field" in str(refused.context["adminform"].form.errors["mapping"])
    assert admin_client.post(add, {**fields, "mapping": '{"Artikel": "ean"}'}).status_code == 302
    stored = SupplierMapping.objects.get()
    assert (stored.mapping, stored.on_invalid_value) == ({"Artikel": "ean"}, "skip_value")
    listing = admin_client.get(reverse("admin:imports_suppliermapping_changelist")).content.decode()
    assert "Keep the row without the value" in listing
