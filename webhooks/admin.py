from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from pixee.errors import Conflict

from . import services
from .models import WebhookAttempt, WebhookEvent, WebhookSubscription

SUBSCRIPTION_FIELDS = (
    "id",
    "created_by",
    "url",
    "events",
    "is_active",
    "disabled_reason",
    "disabled_at",
    "failing_since",
    "created_at",
)
ATTEMPT_FIELDS = (
    "number",
    "manual",
    "created_at",
    "status_code",
    "duration_ms",
    "error",
    "response_body",
)
DELIVERY_FIELDS = (
    "id",
    "type",
    "status",
    "url",
    "subscription",
    "job",
    "attempt_count",
    "next_attempt_at",
    "delivered_at",
    "created_at",
    "payload",
)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "created_by", "event_list", "is_active", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "created_by__username", "id"]
    # The secret is never shown, not even encrypted: it was given once, at creation.
    fields = SUBSCRIPTION_FIELDS
    readonly_fields = SUBSCRIPTION_FIELDS
    actions = ["enable", "disable"]

    def has_add_permission(self, request):
        # Created through the API, whose answer is the one place the secret is shown.
        return False

    @admin.display(description="events")
    def event_list(self, subscription):
        return ", ".join(subscription.events)

    @admin.action(description="Enable (forgets past failures)")
    def enable(self, request, queryset):
        for subscription in queryset:
            services.webhook_subscription_update(subscription=subscription, is_active=True)
        messages.success(request, f"{queryset.count()} webhook(s) enabled.")

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        for subscription in queryset:
            services.webhook_subscription_update(subscription=subscription, is_active=False)
        messages.success(request, f"{queryset.count()} webhook(s) disabled.")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    classes = ("pixee-history",)
    fields = ATTEMPT_FIELDS
    readonly_fields = ATTEMPT_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only history: one row per event sent to one endpoint, its attempts inline."""

    list_display = ["delivery", "type", "target", "status_badge", "attempt_count", "created", "delivered"]
    list_filter = ["status", "type"]
    search_fields = ["id", "url", "subscription__id", "job__id"]
    date_hierarchy = "created_at"
    list_select_related = ["subscription", "job"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="delivery", ordering="id")
    def delivery(self, event):
        # The full id (a UUID) wrapped over four lines; its start is enough to tell rows apart.
        return format_html('<code title="{}">{}…</code>', event.id, str(event.id)[:8])

    @admin.display(description="created", ordering="created_at")
    def created(self, event):
        return _when(event.created_at)

    @admin.display(description="delivered", ordering="delivered_at")
    def delivered(self, event):
        return _when(event.delivered_at)

    @admin.display(description="target")
    def target(self, event):
        return "webhook " + event.url if event.subscription_id else "job's webhook_url " + event.url

    @admin.display(description="status", ordering="status")
    def status_badge(self, event):
        # The import jobs' badges (static/pixee/admin.css), so a status reads the same everywhere.
        return format_html(
            '<span class="pixee-badge pixee-badge--{}">{}</span>', event.status, event.get_status_display()
        )

    @admin.action(description="Redeliver (one more attempt)", permissions=["view"])
    def redeliver(self, request, queryset):
        sent = 0
        for event in queryset:
            try:
                services.webhook_event_redeliver(event=event)
                sent += 1
            except Conflict as exc:
                messages.warning(request, f"{event.id}: {exc}")
        if sent:
            messages.success(request, f"{sent} delivery(ies) queued again.")


def _when(moment) -> str:
    """Compact, like the import job list: "2026-11-27 05:58:12"."""
    if not moment:
        return "—"
    return format_html('<span class="nowrap">{}</span>', date_format(localtime(moment), "Y-m-d H:i:s"))
