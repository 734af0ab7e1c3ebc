from django.urls import re_path

from . import views

_ID = r"[0-9a-fA-F-]{36}"

# The spec's paths have no trailing slash; one is tolerated.
urlpatterns = [
    re_path(r"^webhooks/?$", views.WebhookListCreateView.as_view(), name="webhook-list"),
    re_path(rf"^webhooks/(?P<webhook_id>{_ID})/?$", views.WebhookDetailView.as_view(), name="webhook-detail"),
    re_path(
        rf"^webhooks/(?P<webhook_id>{_ID})/deliveries/?$",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-delivery-list",
    ),
    re_path(
        rf"^webhooks/(?P<webhook_id>{_ID})/deliveries/(?P<delivery_id>{_ID})/?$",
        views.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery-detail",
    ),
    re_path(
        rf"^webhooks/(?P<webhook_id>{_ID})/deliveries/(?P<delivery_id>{_ID})/redeliver/?$",
        views.WebhookRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
