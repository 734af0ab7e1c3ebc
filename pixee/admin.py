"""API keys in the admin: create one for a user and show its raw key once; list and revoke keys.

The stored hash never appears: a key that was lost is revoked and replaced, not recovered.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from .adminsite import ServiceAddModelAdmin
from .apikeys import KEY_PREFIX, api_key_create, api_key_revoke
from .models import ApiKey


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_username()} (staff)" if obj.is_staff else obj.get_username()


class ApiKeyCreateForm(forms.Form):
    user = UserChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        help_text="The key acts as this user: a staff user's key sees every job, others only their own.",
    )
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. “ERP nightly sync”.")


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAddModelAdmin):
    add_form_class = ApiKeyCreateForm
    add_form_template = "admin/pixee/apikey/add_form.html"
    list_display = ("name", "key_prefix", "user", "created_at", "last_used_at", "state", "revoked_at")
    list_filter = (KeyStateFilter, "created_at", "last_used_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("name", "key_prefix", "user", "created_at", "last_used_at", "state", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_change_permission(self, request, obj=None):
        # A key's only change is its revocation, which goes through api_key_revoke.
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoked keys stay listed: who had access, and until when, is worth keeping.
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description="Key")
    def key_prefix(self, api_key: ApiKey):
        return f"{KEY_PREFIX}_{api_key.prefix}_…"

    @admin.display(description="State", ordering="revoked_at")
    def state(self, api_key: ApiKey):
        label = "Active" if api_key.is_active else "Revoked"
        return format_html('<span class="pixee-badge pixee-badge--{}">{}</span>', label.lower(), label)

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
            self.log_change(request, api_key, "Revoked.")
        self.message_user(
            request, f"Revoked {len(keys)} API key{'s' if len(keys) != 1 else ''}.", messages.SUCCESS
        )

    def create_from_form(self, request, form):
        api_key, raw_key = api_key_create(user=form.cleaned_data["user"], name=form.cleaned_data["name"])
        self.log_addition(request, api_key, [{"added": {}}])
        # The raw key goes into this response only: not into a message (a cookie or the session),
        # not into the URL of a redirect, and the response is marked uncacheable.
        response = TemplateResponse(
            request,
            "admin/pixee/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "title": "API key created",
                "opts": self.opts,
                "api_key": api_key,
                "raw_key": raw_key,
                "api_base": request.build_absolute_uri("/api/v1"),
            },
        )
        add_never_cache_headers(response)
        return response
