"""The admin site for staff and operators, and the add view that every service-backed admin shares."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

# Apps in the order an operator reaches for them; apps not named here follow, alphabetically.
APP_ORDER = ("imports", "automations", "catalog", "webhooks", "pixee", "auth", "django_celery_beat")


class PixeeAdminSite(admin.AdminSite):
    """Django's admin with the product's name and its apps in working order."""

    site_header = "Pixee Imports"
    site_title = "Pixee Imports"
    index_title = "Operations"
    # There is no public site to "view": the admin links to the API docs instead (base_site.html).
    site_url = None
    # Job and product lists are wide tables; the app sidebar would squeeze them on a laptop screen.
    enable_nav_sidebar = False
    empty_value_display = "—"

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: i for i, label in enumerate(APP_ORDER)}
        return sorted(apps, key=lambda app: (rank.get(app["app_label"], len(rank)), app["name"].lower()))


class PixeeAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``PixeeAdminSite`` as ``admin.site`` (Django's documented way)."""

    default_site = "pixee.adminsite.PixeeAdminSite"


class ServiceAddModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose add form hands its data to a service instead of saving a ModelForm.

    The admin's own add view saves ``form.instance``; our writes go through services, which may
    still refuse the input after the form validated it. ``create_from_form`` calls the service and
    either returns the response to send or adds form errors and returns None.
    """

    add_form_class: type[forms.Form]

    def create_from_form(self, request: HttpRequest, form: forms.Form) -> HttpResponse | None:
        raise NotImplementedError

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = self.add_form_class(request.POST, request.FILES)
            if form.is_valid():
                response = self.create_from_form(request, form)
                if response is not None:
                    return response
        else:
            form = self.add_form_class(initial=self.get_changeform_initial_data(request))
        admin_form = helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Add {self.opts.verbose_name}",
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            # One object per form: "save and add another" and "continue editing" make no sense here.
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)


def json_block(value: Any) -> str:
    """A JSON value as an indented, escaped block for read-only admin fields (``—`` when empty)."""
    if not value:
        return "—"
    return format_html('<pre class="pixee-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))
