from django.urls import re_path

from pixee.api import UUID_PATTERN

from . import views

# The spec's paths have no trailing slash; one is tolerated.
urlpatterns = [
    re_path(r"^webhooks/?$", views.WebhookListCreateView.as_view(), name="webhook-list"),
    re_path(
        rf"^webhooks/(?P<webhook_id>{UUID_PATTERN})/?$",
        views.WebhookDetailView.as_view(),
        name="webhook-detail",
    ),
    re_path(
        rf"^webhooks/(?P<webhook_id>{UUID_PATTERN})/deliveries/?$",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-delivery-list",
    ),
    re_path(
        rf"^webhooks/(?P<webhook_id>{UUID_PATTERN})/deliveries/(?P<delivery_id>{UUID_PATTERN})/?$",
        views.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery-detail",
    ),
    re_path(
        rf"^webhooks/(?P<webhook_id>{UUID_PATTERN})/deliveries/(?P<delivery_id>{UUID_PATTERN})/redeliver/?$",
        views.WebhookRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
