"""The automation page's latest runs, with links to the import jobs they created."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from ..models import AutomationRun
from .display import run_badge, when


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
        return when(run.started_at)

    @admin.display(description="Status")
    def status_badge(self, run: AutomationRun) -> str:
        return run_badge(run.status, run.get_status_display())

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
