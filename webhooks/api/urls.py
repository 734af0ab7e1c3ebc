from django.urls import re_path

from pixee.api import UUID_PATTERN

from . import views


def webhook_path(suffix: str, view, name: str):
    # The spec's paths have no trailing slash; one is tolerated.
    return re_path(rf"^webhooks/(?P<webhook_id>{UUID_PATTERN}){suffix}/?$", view.as_view(), name=name)


DELIVERY = rf"/deliveries/(?P<delivery_id>{UUID_PATTERN})"

urlpatterns = [
    re_path(r"^webhooks/?$", views.WebhookListCreateView.as_view(), name="webhook-list"),
    webhook_path("", views.WebhookDetailView, "webhook-detail"),
    webhook_path("/deliveries", views.WebhookDeliveryListView, "webhook-delivery-list"),
    webhook_path(DELIVERY, views.WebhookDeliveryDetailView, "webhook-delivery-detail"),
    webhook_path(f"{DELIVERY}/redeliver", views.WebhookRedeliverView, "webhook-delivery-redeliver"),
]
