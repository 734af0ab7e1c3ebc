"""The import jobs admin: upload, watch, preview and control jobs through the same services as the API."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from catalog.models import Product, ProductChange
from pixee.adminsite import ServiceAddModelAdmin, json_block
from pixee.errors import Conflict, PayloadTooLarge

from . import changes, revert, selectors, services, state
from .api.serializers import ImportJobSerializer
from .choices import ImportStatus, LogLevel, OnInvalidValue
from .formats import supported_types
from .mapping import MappingError, validate_explicit_mapping
from .models import ImportJob, SupplierMapping

ACTIONS = {
    "confirm": (services.import_job_confirm, "Dry run confirmed: the import is processing."),
    "pause": (services.import_job_pause, "Import paused."),
    "resume": (services.import_job_resume, "Import resumed."),
    "cancel": (
        services.import_job_cancel,
        "Import cancelled; the stored file is discarded.",
    ),
}
PREVIEW_ROWS = 10
# Where errors.csv lists every rejected row: the analysis has read the whole file.
ERROR_REPORT_STATUSES = (ImportStatus.READY, ImportStatus.COMPLETED, ImportStatus.FAILED)
LOGS_PER_PAGE = 50
CHANGES_PER_PAGE = 50
# How the changes' filter names each action, for a dry run (True) and for a job that wrote.
CHANGE_LABELS = {
    True: {
        "created": "Will create",
        "updated": "Will update",
        "unchanged": "Unchanged",
        "failed": "Will fail",
    },
    False: {"created": "Created", "updated": "Updated", "unchanged": "Unchanged", "failed": "Failed"},
}


class OptionalJSONField(forms.JSONField):
    """A JSON field whose empty value shows as an empty box, not the text ``null``."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class MappingFormField(OptionalJSONField):
    """A mapping typed as JSON, checked by the rule the API applies (an empty box is no mapping)."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.Textarea(
                attrs={"rows": 4, "cols": 60, "placeholder": '{"EAN": "ean", "Prix HT": "price"}'}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        try:
            return validate_explicit_mapping(super().clean(value) or {})
        except MappingError as exc:
            raise forms.ValidationError(str(exc)) from None


class ImportJobUploadForm(forms.Form):
    """What an operator gives to start an import; the service makes the remaining checks."""

    file = forms.FileField(
        help_text="Accepted: " + ", ".join(f".{t}" for t in supported_types()) + ".",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{t}" for t in supported_types())}),
    )
    supplier_code = forms.CharField(
        max_length=100, required=False, help_text="Stored on every product this file creates or updates."
    )
    # Operators upload by hand: checking the preview before anything is written is the safe default.
    dry_run = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Analyse and preview the file first; nothing is written until you press Confirm.",
    )
    mapping = MappingFormField(
        required=False,
        help_text='Optional JSON object: file column → product field ("" ignores a column). '
        "Without one, the supplier's stored mapping applies; columns are otherwise recognised "
        "by their usual names (EAN, GTIN, Prix HT, …).",
    )
    on_invalid_value = forms.ChoiceField(
        choices=[("", "The supplier's stored choice (else skip the row)"), *OnInvalidValue.choices],
        required=False,
        label="On an invalid value",
        help_text="Skip the row, or keep it without the value (never the EAN, nor a new product's name).",
    )
    # Its bounds are import_job_create's (services.MAX_ERRORS_VALIDATORS): it reports them on the field.
    max_errors = forms.IntegerField(
        required=False,
        help_text="Fail the job before writing anything when more rows than this are invalid.",
    )


class ReanalyzeForm(forms.Form):
    """A new mapping (and choice on invalid values) for the analysis of a job's stored file."""

    mapping = MappingFormField(
        required=False,
        help_text='File column → product field ("" ignores a column); columns it leaves out are '
        "recognised by their names and values again.",
    )
    on_invalid_value = forms.ChoiceField(choices=OnInvalidValue.choices, label="On an invalid value")


def _timestamp(field: str, description: str):
    """A read-only admin field showing ``field`` to the second, with its time zone."""

    @admin.display(description=description)
    def show(model_admin, job: ImportJob):
        return _moment(getattr(job, field))

    return show


@admin.register(ImportJob)
class ImportJobAdmin(ServiceAddModelAdmin):
    add_form_class = ImportJobUploadForm
    add_form_template = "admin/imports/importjob/add_form.html"
    change_form_template = "admin/imports/importjob/change_form.html"

    list_display = (
        "job",
        "status_badge",
        "progress_bar",
        "supplier_code",
        "rows",
        "created",
        "updated",
        "unchanged",
        "failed",
        "uploaded",
    )
    list_filter = ("status", "supplier_code", "created_at", "dry_run", "file_type")
    search_fields = ("file_name", "supplier_code")
    search_help_text = "File name, supplier code or job id."
    list_select_related = ("created_by",)
    list_per_page = 50
    fieldsets = (
        (
            "File",
            {
                "fields": (
                    "id",
                    "file_name",
                    "file_type",
                    "size",
                    "supplier_code",
                    "dry_run",
                    "max_errors",
                    "webhook_url",
                    "origin",
                )
            },
        ),
        ("Mapping", {"fields": ("requested_mapping_json", "mapping_json")}),
        ("Timeline", {"fields": ("created_moment", "started", "finished", "duration", "last_update")}),
        (
            "Worker",
            {
                "classes": ("collapse",),
                "description": "Where the worker stands; it resumes from the checkpoint after a crash.",
                "fields": (
                    "analyzed_rows",
                    "processed_rows",
                    "checkpoint_row",
                    "paused_from",
                    "attempts",
                    "heartbeat_at",
                ),
            },
        ),
    )
    # Every field is written by services and the worker: the detail page only shows them.
    readonly_fields = flatten_fieldsets(fieldsets)

    class Media:
        js = ("pixee/import_job.js",)

    # --- permissions ---------------------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        # Saving the admin form would overwrite the worker's counters with stale values.
        return False

    def has_delete_permission(self, request, obj=None):
        # The API has no delete either: a job is the record of what an import did to the catalog.
        return False

    def has_control_permission(self, request) -> bool:
        """Pause, resume, cancel and confirm: changes of the job, in Django's permission terms."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    # --- list ------------------------------------------------------------------------------------

    def get_search_results(self, request, queryset, search_term):
        # A pasted job id finds its job by primary key (a substring match on ids would scan the table).
        job_id = _as_uuid(search_term.strip())
        if job_id is not None:
            return queryset.filter(pk=job_id), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="File", ordering="file_name")
    def job(self, job: ImportJob):
        if job.dry_run:
            return format_html('{} <span class="pixee-tag">dry run</span>', job.file_name)
        return job.file_name

    @admin.display(description="Uploaded", ordering="created_at")
    def uploaded(self, job: ImportJob):
        return format_html(
            '<span class="nowrap" title="by {}">{}</span>',
            job.created_by or "—",
            date_format(localtime(job.created_at), "Y-m-d H:i"),
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, job: ImportJob):
        return render_to_string("admin/imports/importjob/_status_badge.html", {"job": job})

    @admin.display(description="Progress")
    def progress_bar(self, job: ImportJob):
        return render_to_string("admin/imports/importjob/_progress_bar.html", {"job": job})

    @admin.display(description="Rows", ordering="total_rows")
    def rows(self, job: ImportJob):
        return _live(job, "total_rows", job.total_rows)

    @admin.display(description="Created", ordering="products_created")
    def created(self, job: ImportJob):
        return _live(job, "products_created", job.products_created)

    @admin.display(description="Updated", ordering="products_updated")
    def updated(self, job: ImportJob):
        return _live(job, "products_updated", job.products_updated)

    @admin.display(description="Unchanged", ordering="products_unchanged")
    def unchanged(self, job: ImportJob):
        return _live(job, "products_unchanged", job.products_unchanged)

    @admin.display(description="Failed", ordering="failed_rows")
    def failed(self, job: ImportJob):
        return _live(job, "failed_rows", job.failed_rows, css="pixee-failed" if job.failed_rows else "")

    # --- detail fields -------------------------------------------------------------------------

    @admin.display(description="Source")
    def origin(self, job: ImportJob):
        who = job.created_by or "a deleted user"
        return f"{selectors.import_job_origin(job=job)}, by {who}"

    created_moment = _timestamp("created_at", "Created at")
    started = _timestamp("started_at", "Started at")
    finished = _timestamp("completed_at", "Finished at")
    last_update = _timestamp("updated_at", "Last update")

    @admin.display(description="Duration")
    def duration(self, job: ImportJob):
        if job.started_at is None:
            return "—"
        end = job.completed_at or timezone.now()
        text = _duration(end - job.started_at)
        return text if job.completed_at else f"{text} so far"

    @admin.display(description="File size")
    def size(self, job: ImportJob):
        return filesizeformat(job.file_size)

    @admin.display(description="Requested mapping")
    def requested_mapping_json(self, job: ImportJob):
        return json_block(job.requested_mapping)

    @admin.display(description="Effective mapping")
    def mapping_json(self, job: ImportJob):
        return json_block(job.mapping)

    # --- add -------------------------------------------------------------------------------------

    def create_from_form(self, request, form):
        data = form.cleaned_data
        try:
            job = services.import_job_create(
                user=request.user,
                file=data["file"],
                supplier_code=data["supplier_code"],
                dry_run=data["dry_run"],
                mapping=data["mapping"],
                max_errors=data["max_errors"],
                on_invalid_value=data["on_invalid_value"] or None,
            )
        except services.UploadRejected as exc:
            form.add_error(exc.field, str(exc))
            return None
        except PayloadTooLarge as exc:
            form.add_error("file", str(exc))
            return None
        with transaction.atomic():  # see action_view
            self.log_addition(request, job, [{"added": {}}])
        self.message_user(request, f"“{job.file_name}” uploaded; the import is queued.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[job.pk]))

    # --- detail ----------------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, unquote(object_id))
        if job is not None:
            extra_context = {**self._detail_context(request, job), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _detail_context(self, request, job: ImportJob) -> dict:
        try:
            preview = selectors.import_job_preview(job=job, limit=PREVIEW_ROWS)
            preview_unavailable = ""
        except Conflict as exc:
            preview, preview_unavailable = None, str(exc)
        except OSError:
            preview, preview_unavailable = None, "The stored file cannot be read."
        preview_columns, preview_rows = _preview_table(preview)
        level = request.GET.get("log_level")
        level = level if level in LogLevel.values else ""
        logs = Paginator(selectors.import_log_list(job=job, level=level or None), LOGS_PER_PAGE)
        changes_action, job_changes, changes_unavailable = self._changes(request, job)
        return {
            "job": job,
            "changes": job_changes,
            "changes_action": changes_action,
            "change_actions": [
                (a, CHANGE_LABELS[job.status == ImportStatus.READY][a]) for a in changes.ACTIONS
            ],
            "changes_unavailable": changes_unavailable,
            "revertible": self.has_control_permission(request)
            and job.status in revert.REVERTIBLE
            and job.revert_requested_at is None
            and job.purged_at is None,
            "reanalyzable": self.has_control_permission(request)
            and services.import_job_reanalyze_refusal(job=job) is None,
            "running": job.status in state.RUNNING,
            "actions": state.allowed_actions(job.status) if self.has_control_permission(request) else [],
            "preview": preview,
            "preview_columns": preview_columns,
            "preview_rows": preview_rows,
            "preview_unavailable": preview_unavailable,
            "log_levels": LogLevel.choices,
            "log_level": level,
            "logs": logs.get_page(request.GET.get("log_page")),
            "errors_csv_url": reverse("import-job-errors", kwargs={"job_id": job.pk}),
            # Only when there are rejected rows to download: otherwise a 409 or a header-only file.
            "has_error_report": selectors.stored_file_unavailable(job) is None
            and job.failed_rows > 0
            and job.status in ERROR_REPORT_STATUSES,
            "products_written": job.products_created + job.products_updated,
        }

    def _changes(self, request, job: ImportJob) -> tuple[str, dict | None, str]:
        """(action filter, one page of the job's changes, why there are none to show)."""
        if job.status not in (ImportStatus.READY, ImportStatus.COMPLETED, ImportStatus.CANCELLED):
            return "", None, ""
        action = request.GET.get("changes_action")
        action = action if action in changes.ACTIONS else ""
        try:
            page = max(int(request.GET.get("changes_page", 1)), 1)
        except ValueError:
            page = 1
        try:
            found = changes.import_job_changes(
                job=job, action=action or None, skip=(page - 1) * CHANGES_PER_PAGE, limit=CHANGES_PER_PAGE
            )
        except Conflict as exc:
            return action, None, str(exc)
        except OSError:
            return action, None, "The stored file cannot be read."
        return action, found, ""

    def revert_view(self, request, object_id):
        """GET: what reverting will do, and a button; POST: revert (in the background)."""
        job = self._job_or_404(request, object_id)
        if not self.has_control_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                services.import_job_revert(job=job)
            except Conflict as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.log_change(request, job, [{"changed": {"fields": ["reverted_at"]}}])
                self.message_user(request, "Revert started: the counters below follow it.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "job": job,
            "title": f"Revert “{job.file_name}”?",
            "to_restore": ProductChange.objects.filter(job_id=job.pk).count(),
            "to_delete": Product.objects.filter(created_by_job=job.pk).count(),
        }
        return TemplateResponse(request, "admin/imports/importjob/revert_confirmation.html", context)

    def reanalyze_view(self, request, object_id):
        """GET: the mapping and the choice on invalid values to edit; POST: re-run the analysis."""
        job = self._job_or_404(request, object_id)
        if not self.has_control_permission(request):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[job.pk]))
        if request.method == "POST":
            form = ReanalyzeForm(request.POST)
            if form.is_valid():
                try:
                    with transaction.atomic():  # see action_view
                        services.import_job_reanalyze(job=job, **form.cleaned_data)
                        self.log_change(request, job, [{"changed": {"fields": ["mapping", "status"]}}])
                except Conflict as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return back
                except services.UploadRejected as exc:
                    form.add_error(exc.field, str(exc))
                else:
                    self.message_user(
                        request,
                        "Re-analysis queued with the new mapping; the counters below follow it.",
                        messages.SUCCESS,
                    )
                    return back
        else:
            refusal = services.import_job_reanalyze_refusal(job=job)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
                return back
            # The effective mapping is where an edit starts: what the analysis made of each column.
            initial = job.mapping or job.requested_mapping or job.supplier_mapping
            form = ReanalyzeForm(initial={"mapping": initial, "on_invalid_value": job.on_invalid_value})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "job": job,
            "form": form,
            "columns": selectors.import_job_columns(job=job),
            "title": f"Reanalyze “{job.file_name}”",
        }
        return TemplateResponse(request, "admin/imports/importjob/reanalyze_form.html", context)

    # --- extra views -----------------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        urls = [
            path("<uuid:object_id>/status/", wrap(self.status_view), name="{}_{}_status".format(*info)),
            path("<uuid:object_id>/revert/", wrap(self.revert_view), name="{}_{}_revert".format(*info)),
            path(
                "<uuid:object_id>/reanalyze/",
                wrap(self.reanalyze_view),
                name="{}_{}_reanalyze".format(*info),
            ),
            *(
                path(
                    f"<uuid:object_id>/{action}/",
                    wrap(require_POST(self.action_view)),
                    {"action": action},
                    name="{}_{}_{}".format(*info, action),
                )
                for action in ACTIONS
            ),
        ]
        return urls + super().get_urls()

    def _job_or_404(self, request, object_id) -> ImportJob:
        job = self.get_object(request, str(object_id))
        if job is None:
            raise Http404
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return job

    def status_view(self, request, object_id):
        """The job as the API shows it, for the detail page and the list to refresh themselves."""
        job = self._job_or_404(request, object_id)
        return JsonResponse(
            {
                **ImportJobSerializer(job).data,
                "status_label": job.get_status_display(),
                "running": job.status in state.RUNNING,
            }
        )

    def action_view(self, request, object_id, action: str):
        job = self._job_or_404(request, object_id)
        if not self.has_control_permission(request):
            raise PermissionDenied
        service, done = ACTIONS[action]
        try:
            # One transaction for the change and its "Recent actions" entry: on SQLite a
            # transaction is what lets a request's write go before the worker's next chunk.
            with transaction.atomic():
                service(job=job)
                self.log_change(request, job, [{"changed": {"fields": ["status"]}}])
        except Conflict as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[job.pk]))


def _moment(value) -> str:
    # To the second: operators compare these with logs and with the worker's output.
    return date_format(localtime(value), "Y-m-d H:i:s T") if value else "—"


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {seconds:02d} s"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _live(job: ImportJob, field: str, value: int | None, css: str = "") -> str:
    """A counter cell that import_job.js keeps up to date while the job runs."""
    shown = "—" if value is None else number_format(value, force_grouping=True)
    return format_html(
        '<span class="pixee-count {}" data-job="{}" data-field="{}">{}</span>', css, job.pk, field, shown
    )


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _preview_table(preview: dict | None) -> tuple[list[str], list[list[str]]]:
    """The preview as a table: the product fields any row fills (in catalog order), then the cells."""
    if not preview:
        return [], []
    present = {key for row in preview["preview"] for key, value in row.items() if value is not None}
    columns = [f for f in selectors.PREVIEW_FIELDS if f in present]
    rows = [[_cell(row.get(column)) for column in columns] for row in preview["preview"]]
    return columns, rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class SupplierMappingForm(forms.ModelForm):
    mapping = MappingFormField(required=False, help_text='File column → product field ("" ignores a column).')

    class Meta:
        model = SupplierMapping
        fields = ["created_by", "supplier_code", "mapping", "on_invalid_value"]


@admin.register(SupplierMapping)
class SupplierMappingAdmin(admin.ModelAdmin):
    """Suppliers' remembered mappings, checked like the API's."""

    form = SupplierMappingForm
    list_display = ["supplier_code", "created_by", "on_invalid_value", "updated_at"]
    list_filter = ["on_invalid_value"]
    search_fields = ["supplier_code"]
