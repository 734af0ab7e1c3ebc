"""The automation admin: every write goes through the services, like the API's."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet

from .. import selectors, services
from ..models import Automation
from ..sources import sources
from . import actions
from .forms import SECRET_FORM_FIELDS, SOURCE_FORM_FIELDS, AutomationForm
from .inlines import AutomationRunInline
from .views import AutomationPagesMixin

# Only on a saved automation: on the add page they would all read "—".
_SAVED_ONLY = ("created_by", "stored_secrets", "clear_secrets", "created_at", "updated_at")


def _fields_by_type() -> str:
    return " ".join(
        f"{source.label}: {', '.join(d.options.label.lower() for d in source.settings_class.declared())}."
        for source in sources()
    )


@admin.register(Automation)
class AutomationAdmin(AutomationPagesMixin):
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
    # Hosts and URLs are in the encrypted configuration: get_search_results matches them.
    search_fields = ("name", "supplier_code")
    actions = (actions.run_now, actions.enable, actions.disable, actions.pin_reported_host_key)
    readonly_fields = (
        "schedule_description",
        "next_run_times",
        "stored_secrets",
        "created_by",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {"fields": ("name", "supplier_code", "mapping", "on_invalid_value", "is_active", "created_by")},
        ),
        # In words and next runs: in the panel above the form, and previewed live under the input.
        ("Schedule", {"fields": ("schedule", "timezone")}),
        (
            "File source",
            {
                "fields": SOURCE_FORM_FIELDS,
                "description": f"{_fields_by_type()} Fields of other types are ignored.",
            },
        ),
        (
            "Secrets (encrypted, never shown)",
            {"fields": ("stored_secrets", *SECRET_FORM_FIELDS, "clear_secrets")},
        ),
        (None, {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request) -> QuerySet:
        return selectors.automation_list(automations=super().get_queryset(request)).select_related(
            "created_by"
        )

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not search_term:
            return found, may_have_duplicates
        by_source = selectors.automation_ids_by_location(automations=queryset, term=search_term)
        ids = {*found.values_list("pk", flat=True), *by_source}
        return queryset.filter(pk__in=ids), may_have_duplicates

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

    # --- writes: through the services, on the admin's own instance --------------------------

    def save_model(self, request, obj: Automation, form, change: bool) -> None:
        kwargs = getattr(form, "service_kwargs", None)
        if kwargs is None:  # the changelist's is_active toggle
            services.automation_set_active(automation=obj, is_active=obj.is_active)
        elif change:
            services.automation_update(automation=obj, actor=request.user, **kwargs)
        else:
            saved = services.automation_create(user=request.user, **kwargs)
            # The admin goes on with ``obj`` (its log entry, message and redirect): make it the saved row.
            obj.pk, obj._state.adding = saved.pk, False
            obj.refresh_from_db()

    def delete_model(self, request, obj: Automation) -> None:
        services.automation_delete(automation=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for automation in queryset:
            services.automation_delete(automation=automation)
