"""Automations in the admin: every write goes through the services, like the API's."""

from __future__ import annotations

import json
import zoneinfo
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from pixee.errors import Conflict

from . import selectors, services
from .choices import RunStatus
from .models import Automation, AutomationRun
from .schedule import ScheduleError
from .sources import SECRET_FIELDS, source_for, source_types
from .sources.sftp import parse_host_key

# file_source key → form field; secrets get their own names so that the model form never writes
# them back empty (an empty secret box means "unchanged").
# The form's non-secret file source fields, in the order the form shows them.
SOURCE_FORM_FIELDS = ("source_type", "host", "port", "username", "path", "url", "host_key", "headers", "tls")
_FORM_FIELD = {"type": "source_type", **{name: f"new_{name}" for name in SECRET_FIELDS}}
_SOURCE_FIELDS = (
    "type",
    "host",
    "port",
    "username",
    "path",
    "url",
    "host_key",
    "headers",
    "tls",
    *SECRET_FIELDS,
)
_KEEP = "Leave empty to keep the current value."
# Only on a saved automation: on the add page they would all read "—".
_SAVED_ONLY = (
    "created_by",
    "stored_secrets",
    "clear_secrets",
    "created_at",
    "updated_at",
)


class SecretTextarea(forms.Textarea):
    """A textarea that, like ``PasswordInput(render_value=False)``, never sends its value back:
    a form redisplayed with errors must not echo a private key into the page."""

    def format_value(self, value: Any) -> None:
        return None


def _when(moment) -> str:
    return date_format(localtime(moment), "Y-m-d H:i") if moment else "—"


def _fires_at(moment) -> str:
    """A next run in the automation's own time zone, which is the one its schedule is written in."""
    return date_format(localtime(moment, moment.tzinfo), "D Y-m-d H:i T")


def _run_badge(status: str, label: str) -> str:
    return format_html('<span class="pixee-badge pixee-badge--{}">{}</span>', status, label)


class AutomationForm(forms.ModelForm):
    source_type = forms.ChoiceField(label="Type", choices=())
    timezone = forms.ChoiceField(choices=())
    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"SFTP/FTP login, HTTP basic auth, or the private key's passphrase. {_KEEP}",
    )
    new_private_key = forms.CharField(
        label="Private key",
        required=False,
        strip=False,
        widget=SecretTextarea(
            attrs={"rows": 4, "cols": 80, "class": "pixee-mono", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=f"SFTP: PEM or OpenSSH private key (RSA, Ed25519, ECDSA); never shown again. {_KEEP}",
    )
    new_authorization = forms.CharField(
        label="Authorization header",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=f'HTTP: the whole header value, such as "Bearer …". {_KEEP}',
    )
    clear_secrets = forms.MultipleChoiceField(
        label="Clear",
        required=False,
        choices=[(name, name.replace("_", " ")) for name in SECRET_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        help_text="Remove these stored secrets.",
    )

    class Media:
        js = ("pixee/automation_form.js",)

    class Meta:
        model = Automation
        fields = [
            "name",
            "supplier_code",
            "schedule",
            "timezone",
            "is_active",
            "mapping",
            *SOURCE_FORM_FIELDS,
        ]
        widgets = {
            # A key line is ~100 characters: wide enough to check it at a glance.
            "host_key": forms.Textarea(
                attrs={"rows": 2, "cols": 80, "class": "pixee-mono", "spellcheck": "false"}
            ),
            "headers": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        }

    current_user: Any = None  # set by the admin's get_form

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source_type"]).choices = [
            (t, source_for(t).label) for t in source_types()
        ]
        cast(forms.ChoiceField, self.fields["timezone"]).choices = [
            (z, z) for z in sorted(zoneinfo.available_timezones())
        ]
        if self.instance._state.adding:
            # As the API: the server's time zone, not the first of the list (Africa/Abidjan).
            self.fields["timezone"].initial = settings.TIME_ZONE
        self.service_kwargs: dict[str, Any] = {}
        self.fields["source_type"].widget.attrs["data-test-url"] = reverse(
            "admin:automations_automation_test_connection"
        )
        if not self.instance._state.adding:  # stored secrets are used when none is typed
            self.fields["source_type"].widget.attrs["data-automation"] = str(self.instance.pk)
        # For automation_form.js: preview the schedule as it is typed, show the chosen type's fields.
        self.fields["schedule"].widget.attrs["data-preview-url"] = reverse(
            "admin:automations_automation_schedule_preview"
        )
        self.fields["source_type"].widget.attrs["data-source-fields"] = json.dumps(
            {t: [_FORM_FIELD.get(f, f) for f in source_for(t).fields] for t in source_types()}
        )
        # The primary key is a UUID set on construction: ``adding`` is what tells a new automation.
        if self.instance._state.adding:  # nothing stored yet to keep
            for name in SECRET_FIELDS:
                field = self.fields[f"new_{name}"]
                field.help_text = field.help_text.replace(f" {_KEEP}", "")

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound and self.errors:
            # The secrets typed were not sent back (write-only): say so, or the operator may save
            # the corrected form without them.
            for name in SECRET_FIELDS:
                field = f"new_{name}"
                if self.data.get(self.add_prefix(field)) and field not in self.errors:
                    self.add_error(field, "Enter it again: secrets are never sent back to the page.")

    def clean_new_private_key(self) -> str:
        # Browsers send a textarea's lines with CRLF; store the key as the API would receive it.
        return self.cleaned_data["new_private_key"].replace("\r\n", "\n")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # clean() runs before the form touches the instance: it still holds the stored secrets.
        current = {} if self.instance._state.adding else services.source_values(self.instance)
        source_type = data.get("source_type") or ""
        try:
            used = {"type", *source_for(source_type).fields}
        except ValueError:
            used = {"type"}
        file_source: dict[str, Any] = {}
        for name in _SOURCE_FIELDS:
            if name not in used:
                continue  # the fields of the other types are left behind, not refused
            if name in SECRET_FIELDS:
                new = data.get(f"new_{name}")
                cleared = name in (data.get("clear_secrets") or [])
                file_source[name] = new if new else ("" if cleared else current.get(name, ""))
            else:
                file_source[name] = data.get(_FORM_FIELD.get(name, name))
        self.service_kwargs = {
            "name": data.get("name") or "",
            "supplier_code": data.get("supplier_code") or "",
            "schedule": data.get("schedule") or "",
            "timezone_name": data.get("timezone") or "",
            "file_source": file_source,
            "mapping": data.get("mapping") or {},
        }
        try:
            services.automation_clean(**self.service_kwargs, actor=self.current_user)
        except services.AutomationInvalid as exc:
            self._add_service_errors(exc.errors)
        self.service_kwargs["is_active"] = data.get("is_active", True)
        return data

    def _add_service_errors(self, errors: dict[str, Any]) -> None:
        for field, messages_ in errors.items():
            if field == "file_source":
                for name, source_messages in messages_.items():
                    target = _FORM_FIELD.get(name, name)
                    for message in source_messages:
                        self.add_error(target if target in self.fields else None, message)
            else:
                target = "timezone" if field == "timezone_name" else field
                for message in messages_:
                    self.add_error(target if target in self.fields else None, message)


def _test_summary(result: services.SourceTestResult) -> str:
    if not result.ok:
        return result.error or "The test failed."
    size = filesizeformat(result.size) if result.size is not None else "size not reported"
    modified = _when(result.modified_at) if result.modified_at else "modification time not reported"
    return f"Connected; the file is there: {size}, modified {modified}. Nothing was imported."


class AutomationRunInline(admin.TabularInline):
    model = AutomationRun
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "Latest runs"
    classes = ("pixee-history",)
    fields = (
        "started",
        "status_badge",
        "trigger",
        "took",
        "import_job",
        "size",
        "checksum_short",
        "error_text",
    )
    readonly_fields = fields
    ordering = ("-started_at",)
    LIMIT = 20

    def get_queryset(self, request):
        # A formset cannot take a slice: keep the ids of the latest runs instead.
        queryset = super().get_queryset(request)
        latest = (
            AutomationRun.objects.filter(automation_id__in=queryset.values("automation_id"))
            .order_by("-started_at")
            .values_list("pk", flat=True)
        )
        parent_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if parent_id:
            latest = latest.filter(automation_id=parent_id)
        return queryset.filter(pk__in=list(latest[: self.LIMIT])).select_related("job")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Started")
    def started(self, run: AutomationRun) -> str:
        return _when(run.started_at)

    @admin.display(description="Status")
    def status_badge(self, run: AutomationRun) -> str:
        return _run_badge(run.status, run.get_status_display())

    @admin.display(description="Took")
    def took(self, run: AutomationRun) -> str:
        if run.finished_at is None:
            return "—"
        seconds = max((run.finished_at - run.started_at).total_seconds(), 0)
        return f"{seconds:.1f} s" if seconds < 60 else f"{seconds // 60:.0f} min {seconds % 60:.0f} s"

    @admin.display(description="Import job")
    def import_job(self, run: AutomationRun) -> str:
        if run.job_id is None:
            return "—"
        if run.job is None:
            return str(run.job_id)
        badge = render_to_string("admin/imports/importjob/_status_badge.html", {"job": run.job})
        try:
            url = reverse("admin:imports_importjob_change", args=[run.job_id])
        except NoReverseMatch:
            return format_html("{} {}", run.job.file_name, badge)
        return format_html('<a href="{}">{}</a> {}', url, run.job.file_name, badge)

    @admin.display(description="Size")
    def size(self, run: AutomationRun) -> str:
        return "—" if run.bytes is None else filesizeformat(run.bytes)

    @admin.display(description="SHA-256")
    def checksum_short(self, run: AutomationRun) -> str:
        if not run.checksum:
            return "—"
        return format_html('<code title="{}">{}…</code>', run.checksum, run.checksum[:12])

    @admin.display(description="Error")
    def error_text(self, run: AutomationRun) -> str:
        return run.error or "—"


@admin.register(Automation)
class AutomationAdmin(admin.ModelAdmin):
    form = AutomationForm
    change_form_template = "admin/automations/automation/change_form.html"
    inlines = [AutomationRunInline]
    list_display = (
        "name",
        "created_by",
        "supplier_code",
        "source",
        "schedule_text",
        "next_run_times",
        "is_active",
        "last_run",
    )
    list_editable = ("is_active",)
    list_filter = ("is_active", "source_type")
    search_fields = ("name", "supplier_code", "host", "url")
    actions = ("run_now", "enable", "disable", "pin_reported_host_key")
    readonly_fields = (
        "schedule_description",
        "next_run_times",
        "stored_secrets",
        "created_by",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "supplier_code", "mapping", "is_active", "created_by")}),
        # In words and next runs: in the panel above the form, and previewed live under the input.
        ("Schedule", {"fields": ("schedule", "timezone")}),
        (
            "File source",
            {
                "fields": SOURCE_FORM_FIELDS,
                "description": "SFTP uses host, port, username, path, host key; FTP host, port, username, "
                "path, explicit FTPS; HTTP the URL and headers. Fields of other types are ignored.",
            },
        ),
        (
            "Secrets (encrypted, never shown)",
            {
                "fields": (
                    "stored_secrets",
                    "new_password",
                    "new_private_key",
                    "new_authorization",
                    "clear_secrets",
                )
            },
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request) -> QuerySet:
        return selectors.automation_list(automations=super().get_queryset(request)).select_related(
            "created_by"
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        trimmed = []
        for name, options in fieldsets:
            fields = [f for f in options["fields"] if f not in _SAVED_ONLY]
            if fields:
                trimmed.append((name, {**options, "fields": fields}))
        return trimmed

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.current_user = request.user  # the schedule floor depends on who saves
        return form

    # --- the automation's page: last run, Run now, pin the reported host key --------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        automation = self.get_object(request, unquote(object_id))
        if automation is not None:
            extra_context = {**self._panel_context(request, automation), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _panel_context(self, request, automation: Automation) -> dict[str, Any]:
        to_pin = selectors.automation_host_key_to_pin(automation=automation)
        try:
            pin_fingerprint = parse_host_key(to_pin.host_key).fingerprint if to_pin else ""
        except ValueError:  # a key line this version cannot read: pin it by hand
            to_pin, pin_fingerprint = None, ""
        return {
            "automation": automation,
            "last_run": selectors.automation_last_run(automation=automation),
            "next_runs": self.next_run_times(automation),
            "schedule_words": self.schedule_description(automation),
            "can_control": self.has_change_permission(request, automation),
            "pin_run": to_pin,
            "pin_fingerprint": pin_fingerprint,
        }

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "schedule-preview/",
                wrap(self.schedule_preview_view),
                name="{}_{}_schedule_preview".format(*info),
            ),
            path(
                "test-connection/",
                wrap(require_POST(self.test_connection_view)),
                name="{}_{}_test_connection".format(*info),
            ),
            path(
                "<uuid:object_id>/run/",
                wrap(require_POST(self.run_now_view)),
                name="{}_{}_run".format(*info),
            ),
            path(
                "<uuid:object_id>/pin-host-key/",
                wrap(require_POST(self.pin_host_key_view)),
                name="{}_{}_pin_host_key".format(*info),
            ),
            *super().get_urls(),
        ]

    def _controlled(self, request, object_id) -> Automation:
        automation = self.get_object(request, str(object_id))
        if automation is None:
            raise Http404
        if not self.has_change_permission(request, automation):
            raise PermissionDenied
        return automation

    def _back(self, automation: Automation) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:automations_automation_change", args=[automation.pk]))

    def schedule_preview_view(self, request):
        """What the schedule being typed means: the form's live preview (automation_form.js)."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        try:
            description, runs = selectors.schedule_preview(
                schedule=request.GET.get("schedule", ""), timezone_name=request.GET.get("timezone", "")
            )
        except ScheduleError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"description": description, "next_runs": [_fires_at(m) for m in runs]})

    def test_connection_view(self, request):
        """Test the file source as the form stands, saved or not (automation_form.js's button)."""
        automation = None
        if object_id := request.POST.get("automation"):
            automation = self.get_object(request, object_id)
            if automation is None:
                raise Http404
        allowed = (
            self.has_change_permission(request, automation)
            if automation is not None
            else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        form = self.get_form(request, automation)(request.POST, instance=automation)
        form.is_valid()  # the other fields' mistakes do not matter here; clean() built the source
        file_source = form.service_kwargs.get("file_source")
        if not file_source:
            return JsonResponse(
                {"ok": False, "size": None, "modified_at": None, "error": "Choose a source type."}
            )
        result = services.automation_source_values_test(file_source=file_source)
        return JsonResponse(
            {
                "ok": result.ok,
                "size": result.size,
                "modified_at": result.modified_at.isoformat() if result.modified_at else None,
                "error": result.error,
                "summary": _test_summary(result),
            }
        )

    def run_now_view(self, request, object_id):
        automation = self._controlled(request, object_id)
        self.run_now(request, Automation.objects.filter(pk=automation.pk))
        return self._back(automation)

    def pin_host_key_view(self, request, object_id):
        """Pin the key of the run the page showed (not whichever failed last since the page loaded)."""
        automation = self._controlled(request, object_id)
        run = automation.runs.filter(pk=request.POST.get("run")).exclude(host_key="").first()
        if run is None:
            self.message_user(request, "That run reported no host key to pin.", messages.WARNING)
            return self._back(automation)
        try:
            services.automation_pin_host_key(automation=automation, host_key=run.host_key)
        except services.AutomationInvalid as exc:
            self.message_user(request, f"{automation}: {exc}", messages.WARNING)
        else:
            self.log_change(request, automation, [{"changed": {"fields": ["host_key"]}}])
            self.message_user(
                request,
                f"{automation}: host key pinned ({automation.host_key.split()[0]}).",
                messages.SUCCESS,
            )
        return self._back(automation)

    # --- writes: through the services ---------------------------------------------------------

    def save_model(self, request, obj: Automation, form, change: bool) -> None:
        kwargs = getattr(form, "service_kwargs", None)
        if kwargs is None:  # the changelist's is_active toggle
            saved = services.automation_set_active(
                automation=Automation.objects.get(pk=obj.pk), is_active=obj.is_active
            )
        elif change:
            saved = services.automation_update(
                automation=Automation.objects.get(pk=obj.pk), actor=request.user, **kwargs
            )
        else:
            saved = services.automation_create(user=request.user, **kwargs)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj: Automation) -> None:
        services.automation_delete(automation=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for automation in queryset:
            services.automation_delete(automation=automation)

    @admin.action(description="Run now")
    def run_now(self, request, queryset: QuerySet) -> None:
        for automation in queryset:
            try:
                services.automation_run_request(automation=automation)
            except Conflict as exc:
                self.message_user(request, f"{automation}: {exc}", messages.WARNING)
            else:
                self.message_user(
                    request,
                    f"{automation}: run started. Reload the automation's page to see how it went.",
                    messages.SUCCESS,
                )

    @admin.action(description="Enable the schedule")
    def enable(self, request, queryset: QuerySet) -> None:
        for automation in queryset:
            services.automation_set_active(automation=automation, is_active=True)
        self.message_user(request, f"{queryset.count()} automation(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable the schedule")
    def disable(self, request, queryset: QuerySet) -> None:
        for automation in queryset:
            services.automation_set_active(automation=automation, is_active=False)
        self.message_user(request, f"{queryset.count()} automation(s) disabled.", messages.SUCCESS)

    @admin.action(description="Pin the SFTP host key reported by the last failed run")
    def pin_reported_host_key(self, request, queryset: QuerySet) -> None:
        for automation in queryset:
            try:
                services.automation_pin_host_key(automation=automation)
            except (Conflict, services.AutomationInvalid) as exc:
                self.message_user(request, f"{automation}: {exc}", messages.WARNING)
            else:
                self.message_user(
                    request,
                    f"{automation}: host key pinned ({automation.host_key.split()[0]}).",
                    messages.SUCCESS,
                )

    # --- columns ------------------------------------------------------------------------------

    @admin.display(description="Source")
    def source(self, automation: Automation) -> str:
        if automation.source_type == "http":
            from .sources.http import display_url

            return display_url(automation.url)
        return f"{automation.source_type}://{automation.host}:{automation.port}{automation.path}"

    @admin.display(description="Schedule")
    def schedule_text(self, automation: Automation) -> str:
        if not automation.schedule:
            return "—"
        return format_html(
            '<code class="pixee-cron">{}</code><span class="pixee-quiet">{}</span>',
            automation.schedule,
            self.schedule_description(automation),
        )

    @admin.display(description="In words")
    def schedule_description(self, automation: Automation) -> str:
        if not automation.schedule:
            return "—"
        description = selectors.automation_schedule_description(automation=automation)
        return f"{description} ({automation.timezone})"

    @admin.display(description="Next runs")
    def next_run_times(self, automation: Automation) -> str:
        if automation._state.adding:
            return "—"
        runs = selectors.automation_next_runs(automation=automation)
        if not runs:
            return "— (inactive)" if not automation.is_active else "—"
        return format_html_join(
            mark_safe("<br>"),  # a constant separator, not input
            '<span class="nowrap">{}</span>',
            ((_fires_at(moment),) for moment in runs),
        )

    @admin.display(description="Last run", ordering="last_run_at")
    def last_run(self, automation: Automation) -> str:
        status = getattr(automation, "last_run_status", None)
        if not status:
            return "—"
        return format_html(
            '{}<span class="pixee-quiet nowrap">{}</span>',
            _run_badge(status, RunStatus(status).label),
            _when(getattr(automation, "last_run_at", None)),
        )

    @admin.display(description="Stored secrets")
    def stored_secrets(self, automation: Automation) -> str:
        if automation._state.adding:
            return "—"
        values = services.source_values(automation)
        return format_html_join(
            " ",
            '<span class="pixee-tag{}">{}: {}</span>',
            (
                (
                    " pixee-tag--set" if values[name] else "",
                    name.replace("_", " "),
                    "set" if values[name] else "not set",
                )
                for name in SECRET_FIELDS
            ),
        )


# django-celery-beat's models: each automation owns its periodic task and crontab, kept in step by
# the services; editing them by hand would break a schedule, so they stay off the admin.
for _beat_model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
    if admin.site.is_registered(_beat_model):
        admin.site.unregister(_beat_model)
