import json
import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from automations import services, tasks
from automations.choices import RunStatus, RunTrigger
from automations.models import Automation, AutomationRun
from automations.signals import automation_failed
from catalog.models import Product
from imports.models import ImportJob
from imports.services import import_job_run
from pixee import crypto
from tests.conftest import wait_for
from tests.factories import AutomationRunFactory

from .conftest import CSV, FTP_PASSWORD, SFTP_PASSWORD
from .servers import paramiko_key, private_key_text


def _run(automation, **kwargs):
    return services.automation_run(automation_id=automation.pk, **kwargs)


@pytest.mark.django_db
def test_identical_file_is_skipped_and_a_changed_one_imported(make_automation, http_server, http_source):
    automation = make_automation(http_source)
    first = _run(automation)

    second = _run(automation)

    assert (first.status, second.status) == (RunStatus.COMPLETED, RunStatus.SKIPPED)
    assert second.checksum == first.checksum
    assert second.job_id is None
    assert ImportJob.objects.count() == 1
    http_server.files["/exports/products.csv"] = CSV + b"3760000000031;Lampe;9,90\n"
    third = _run(automation)
    assert third.status == RunStatus.COMPLETED
    assert third.checksum != first.checksum
    assert ImportJob.objects.count() == 2


@pytest.mark.django_db
def test_force_imports_an_identical_file(make_automation, http_source):
    automation = make_automation(http_source)
    _run(automation)

    assert _run(automation, force=True).status == RunStatus.COMPLETED
    assert ImportJob.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_run_does_not_count_as_the_last_success(make_automation, http_server, http_source):
    automation = make_automation(http_source)
    assert _run(automation).status == RunStatus.COMPLETED
    del http_server.files["/exports/products.csv"]
    assert _run(automation).status == RunStatus.FAILED
    http_server.files["/exports/products.csv"] = CSV

    assert _run(automation).status == RunStatus.SKIPPED


@pytest.mark.django_db
def test_a_second_start_while_a_run_is_in_flight_is_refused(make_automation, http_source):
    automation = make_automation(http_source)
    services.automation_run_request(automation=automation)

    with pytest.raises(services.RunInProgress):
        services.automation_run_request(automation=automation)
    assert _run(automation) is None  # a scheduled firing meanwhile is dropped
    assert automation.runs.count() == 1


@pytest.mark.django_db(transaction=True)
def test_no_overlapping_runs_when_the_schedule_fires_during_a_slow_run(
    make_automation, http_server, http_source
):
    http_server.delay = 1.5  # the first run stays in flight while the others try
    automation = make_automation(http_source)
    results = {}

    def first_run():
        try:
            results["first"] = _run(automation)
        finally:
            connection.close()  # the thread's own connection, or the test database cannot be dropped

    first = threading.Thread(target=first_run)
    first.start()
    wait_for(
        lambda: AutomationRun.objects.filter(automation=automation, status=RunStatus.RUNNING).exists(),
        timeout=10,
        interval=0.02,
        message="the first run to be in flight",
    )

    overlapping = [_run(automation) for _ in range(3)]
    first.join(timeout=30)

    assert not first.is_alive(), "the first run did not finish within 30 s"
    assert overlapping == [None, None, None]
    assert results["first"].status == RunStatus.COMPLETED
    assert AutomationRun.objects.filter(automation=automation).count() == 1
    assert ImportJob.objects.count() == 1
    # And afterwards the schedule runs again.
    assert _run(automation).status == RunStatus.SKIPPED


@pytest.mark.django_db
def test_a_run_left_running_too_long_is_presumed_lost(make_automation, http_source):
    automation = make_automation(http_source)
    lost = AutomationRunFactory(automation=automation, started_at=timezone.now() - timedelta(hours=2))

    run = _run(automation)

    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED
    assert lost.error.startswith("The run was presumed lost")
    assert run.status == RunStatus.COMPLETED


@pytest.mark.django_db
def test_run_now_executes_the_run_it_started_and_a_redelivery_does_nothing(make_automation, http_source):
    automation = make_automation(http_source)
    started = services.automation_run_request(automation=automation)
    assert (started.status, started.trigger) == (RunStatus.RUNNING, RunTrigger.MANUAL)

    tasks.run_automation.apply(args=[str(automation.pk)], kwargs={"run_id": str(started.pk)})
    tasks.run_automation.apply(args=[str(automation.pk)], kwargs={"run_id": str(started.pk)})

    started.refresh_from_db()
    assert started.status == RunStatus.COMPLETED
    assert AutomationRun.objects.count() == ImportJob.objects.count() == 1


@pytest.mark.django_db
def test_the_task_for_a_deleted_automation_does_nothing(make_automation, http_source):
    automation = make_automation(http_source)
    automation_id = str(automation.pk)
    services.automation_delete(automation=automation)

    tasks.run_automation.apply(args=[automation_id])

    assert AutomationRun.objects.count() == 0


@pytest.mark.django_db
def test_a_failing_run_announces_automation_failed_in_its_transaction(
    make_automation, http_source, django_capture_on_commit_callbacks
):
    automation = make_automation({**http_source, "url": http_source["url"].replace("products", "missing")})
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    automation_failed.connect(receiver)
    try:
        # No on-commit callback runs (as if the worker died right after the commit): the event
        # was announced already, so what receivers wrote for it committed with the failure.
        with django_capture_on_commit_callbacks(execute=False):
            run = _run(automation)
    finally:
        automation_failed.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["automation"] == automation
    assert received[0]["run"].pk == run.pk
    assert received[0]["error"] == run.error
    assert run.error.startswith("There is no file at")


@pytest.mark.django_db
def test_an_unexpected_error_still_ends_the_run(monkeypatch, make_automation, http_source):
    from automations.sources import http

    def explode(self, download):
        raise RuntimeError("boom")

    monkeypatch.setattr(http.HttpSource, "fetch", explode)
    automation = make_automation(http_source)

    run = _run(automation)

    assert run.status == RunStatus.FAILED
    assert run.error == "The run failed on an unexpected error; the worker's log has the details."
    monkeypatch.undo()
    assert _run(automation).status == RunStatus.COMPLETED


@pytest.mark.django_db
def test_a_file_the_imports_refuse_fails_the_run(make_automation, http_server):
    http_server.files["/empty.csv"] = b""

    run = _run(make_automation({"type": "http", "url": http_server.url("/empty.csv")}))

    assert run.status == RunStatus.FAILED
    assert run.error == "The fetched file 'empty.csv' cannot be imported: The file is empty."


@pytest.mark.django_db
def test_a_runs_job_has_the_automations_on_invalid_value(make_automation, http_server):
    http_server.files["/bad-price.csv"] = b"EAN;Titre;Prix HT\n3760000000017;Chaise;gratuit\n"
    source = {"type": "http", "url": http_server.url("/bad-price.csv")}
    strict = make_automation(source)
    lenient = make_automation(source, name="Lenient", on_invalid_value="skip_value")

    strict_job = import_job_run(job_id=_run(strict).job_id)
    assert (strict_job.on_invalid_value, strict_job.failed_rows, Product.objects.count()) == (
        "skip_row",
        1,
        0,
    )
    lenient_job = import_job_run(job_id=_run(lenient).job_id)

    assert (lenient_job.on_invalid_value, lenient_job.products_created) == ("skip_value", 1)
    product = Product.objects.get(ean="3760000000017")
    assert (product.name, product.price) == ("Chaise", None)


# --- secrets ---------------------------------------------------------------------------------

SECRETS = ("sftp-key-passphrase-never-shown", "Bearer http-token-never-shown")


def _raw_config(automation) -> str:
    """The source configuration as stored, read past the model field that decrypts it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source_config FROM automations_automation WHERE id = %s",
            [automation.pk.hex if connection.vendor == "sqlite" else automation.pk],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_secrets_are_encrypted_in_the_database(make_automation, sftp_source, http_source):
    key = private_key_text("ed25519", passphrase=SECRETS[0])
    sftp = make_automation({**sftp_source, "password": SECRETS[0], "private_key": key})
    http = make_automation({**http_source, "authorization": SECRETS[1]})

    sftp_raw, http_raw = _raw_config(sftp), _raw_config(http)

    assert SECRETS[0] not in sftp_raw and "PRIVATE KEY" not in sftp_raw
    assert key.splitlines()[1] not in sftp_raw
    assert SECRETS[1] not in http_raw and "http-token" not in http_raw
    assert "127.0.0.1" not in sftp_raw + http_raw  # the whole configuration, not only the secrets
    sftp_config, http_config = json.loads(crypto.decrypt(sftp_raw)), json.loads(crypto.decrypt(http_raw))
    assert (sftp_config["password"], sftp_config["private_key"]) == (SECRETS[0], key.strip())
    assert http_config["authorization"] == SECRETS[1]
    assert Automation.objects.get(pk=sftp.pk).source().settings.password == SECRETS[0]


@pytest.mark.django_db
def test_secrets_never_appear_in_logs(
    caplog, make_automation, sftp_server, sftp_source, ftp_source, http_server, http_source
):
    caplog.set_level(logging.DEBUG)
    key = private_key_text("ed25519", passphrase=SECRETS[0])
    sftp_server.authorized_keys["alice"] = [paramiko_key(key, SECRETS[0])]
    http_server.authorization = SECRETS[1]
    automations = [
        make_automation({**sftp_source, "password": SECRETS[0], "private_key": key}),
        make_automation({**sftp_source, "password": "wrong-sftp-password-never-shown"}),
        make_automation(ftp_source),
        make_automation({**ftp_source, "password": "wrong-ftp-password-never-shown"}),
        make_automation({**http_source, "authorization": SECRETS[1]}),
        make_automation({**http_source, "authorization": "Bearer wrong-token-never-shown"}),
    ]

    statuses = [_run(a).status for a in automations]

    assert statuses == [RunStatus.COMPLETED, RunStatus.FAILED] * 3
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (
        *SECRETS,
        SFTP_PASSWORD,
        FTP_PASSWORD,
        "wrong-sftp-password-never-shown",
        "wrong-ftp-password-never-shown",
        "wrong-token-never-shown",
        key.splitlines()[1],
    ):
        assert secret not in logged
    assert "failed" in caplog.text  # the failures were logged, without their secrets
