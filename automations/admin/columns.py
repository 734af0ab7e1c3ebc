"""What the automation list and page show of an automation: its source, its schedule in words and
next runs, its last run, which secrets are stored."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .. import selectors
from ..choices import RunStatus
from ..models import Automation
from ..sources import SourceConfigError, all_settings
from .display import fires_at, run_badge, when


class AutomationColumnsMixin(admin.ModelAdmin):
    @admin.display(description="Source")
    def source(self, automation: Automation) -> str:
        try:
            return automation.source().location
        except SourceConfigError:
            return automation.source_type

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
            ((fires_at(moment),) for moment in runs),
        )

    @admin.display(description="Last run", ordering="last_run_at")
    def last_run(self, automation: Automation) -> str:
        status = getattr(automation, "last_run_status", None)
        if not status:
            return "—"
        return format_html(
            '{}<span class="pixee-quiet nowrap">{}</span>',
            run_badge(status, RunStatus(status).label),
            when(getattr(automation, "last_run_at", None)),
        )

    @admin.display(description="Stored secrets")
    def stored_secrets(self, automation: Automation) -> str:
        if automation._state.adding:
            return "—"
        values = automation.source().values()
        # Every secret any source has, as the page always listed them (another type's reads "not set").
        return format_html_join(
            " ",
            '<span class="pixee-tag{}">{}: {}</span>',
            (
                (
                    " pixee-tag--set" if values.get(name) else "",
                    name.replace("_", " "),
                    "set" if values.get(name) else "not set",
                )
                for name, declared in all_settings().items()
                if declared.options.secret
            ),
        )
