"""The automation's own pages besides the form: the panel above it (last run, Run now, pin the
host key), and the views the form's script and buttons call."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..models import Automation
from ..schedule import ScheduleError
from ..sources.sftp import parse_host_key
from . import actions
from .columns import AutomationColumnsMixin
from .display import fires_at, test_summary


class AutomationPagesMixin(AutomationColumnsMixin):
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
        return JsonResponse({"description": description, "next_runs": [fires_at(m) for m in runs]})

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
                "summary": test_summary(result),
            }
        )

    def run_now_view(self, request, object_id):
        automation = self._controlled(request, object_id)
        actions.run_now(self, request, Automation.objects.filter(pk=automation.pk))
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
                f"{automation}: host key pinned ({actions.pinned_key_type(automation)}).",
                messages.SUCCESS,
            )
        return self._back(automation)
