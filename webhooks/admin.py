from django.contrib import admin, messages
from django.utils.html import format_html

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
    fields = ATTEMPT_FIELDS
    readonly_fields = ATTEMPT_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only history: one row per event sent to one endpoint, its attempts inline."""

    list_display = ["id", "type", "target", "status_badge", "attempt_count", "created_at", "delivered_at"]
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

    @admin.display(description="target")
    def target(self, event):
        return "webhook " + event.url if event.subscription_id else "job's webhook_url " + event.url

    @admin.display(description="status", ordering="status")
    def status_badge(self, event):
        colour = {"delivered": "green", "failed": "#ba2121"}.get(event.status, "inherit")
        return format_html('<span style="color:{}">{}</span>', colour, event.get_status_display())

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
