"""The automation list's actions: run now, enable, disable, pin the reported host key."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet

from pixee.errors import Conflict

from .. import services
from ..models import Automation


def pinned_key_type(automation: Automation) -> str:
    """The key type of the pinned host key, for the message that confirms it ("ssh-ed25519")."""
    return str(automation.source().values().get("host_key", "")).split(" ")[0]


@admin.action(description="Run now")
def run_now(model_admin: admin.ModelAdmin, request, queryset: QuerySet) -> None:
    for automation in queryset:
        try:
            services.automation_run_request(automation=automation)
        except Conflict as exc:
            model_admin.message_user(request, f"{automation}: {exc}", messages.WARNING)
        else:
            model_admin.message_user(
                request,
                f"{automation}: run started. Reload the automation's page to see how it went.",
                messages.SUCCESS,
            )


@admin.action(description="Enable the schedule")
def enable(model_admin: admin.ModelAdmin, request, queryset: QuerySet) -> None:
    _set_active(model_admin, request, queryset, is_active=True)


@admin.action(description="Disable the schedule")
def disable(model_admin: admin.ModelAdmin, request, queryset: QuerySet) -> None:
    _set_active(model_admin, request, queryset, is_active=False)


def _set_active(model_admin: admin.ModelAdmin, request, queryset: QuerySet, *, is_active: bool) -> None:
    for automation in queryset:
        services.automation_set_active(automation=automation, is_active=is_active)
    done = "enabled" if is_active else "disabled"
    model_admin.message_user(request, f"{queryset.count()} automation(s) {done}.", messages.SUCCESS)


@admin.action(description="Pin the SFTP host key reported by the last failed run")
def pin_reported_host_key(model_admin: admin.ModelAdmin, request, queryset: QuerySet) -> None:
    for automation in queryset:
        try:
            services.automation_pin_host_key(automation=automation)
        except (Conflict, services.AutomationInvalid) as exc:
            model_admin.message_user(request, f"{automation}: {exc}", messages.WARNING)
        else:
            model_admin.message_user(
                request, f"{automation}: host key pinned ({pinned_key_type(automation)}).", messages.SUCCESS
            )
