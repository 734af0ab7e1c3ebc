"""Thin views: an input serializer validates, a service or selector acts, an output serializer answers."""

from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from pixee import api

from .. import selectors, services
from ..models import WebhookEvent, WebhookSubscription
from . import serializers as s


def _subscription(request, webhook_id) -> WebhookSubscription:
    return cast(
        WebhookSubscription, api.get_owned_or_404(WebhookSubscription.objects.all(), request, pk=webhook_id)
    )


def _delivery(request, webhook_id, delivery_id) -> WebhookEvent:
    subscription = _subscription(request, webhook_id)
    try:
        return WebhookEvent.objects.prefetch_related("attempts").get(
            subscription=subscription, pk=delivery_id
        )
    except (WebhookEvent.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound() from None


class WebhookListCreateView(APIView):
    # JSON only, as the automations: one body schema per operation for generated clients.
    parser_classes = [JSONParser]

    @extend_schema(
        summary="List webhooks",
        operation_id="webhooks_list",
        parameters=[api.PageParamsSerializer],
        responses=api.page_serializer("WebhookPage", s.WebhookSerializer(many=True)),
    )
    def get(self, request):
        subscriptions = selectors.webhook_subscription_list(
            subscriptions=api.owned_by(WebhookSubscription.objects.all(), request)
        )
        return api.paged(request, subscriptions, s.WebhookSerializer)

    @extend_schema(
        summary="Create a webhook",
        operation_id="webhooks_create",
        request=s.WebhookCreateInputSerializer,
        responses={201: s.WebhookCreatedSerializer},
    )
    def post(self, request):
        data = api.validated(s.WebhookCreateInputSerializer, request.data)
        try:
            subscription = services.webhook_subscription_create(user=request.user, **data)
        except services.SubscriptionRejected as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        # The only response that carries the secret.
        return Response(s.WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(summary="Get a webhook", operation_id="webhooks_get", responses=s.WebhookSerializer)
    def get(self, request, webhook_id):
        return Response(s.WebhookSerializer(_subscription(request, webhook_id)).data)

    @extend_schema(
        summary="Change a webhook's events, or disable / re-enable it",
        operation_id="webhooks_update",
        request=s.WebhookUpdateInputSerializer,
        responses=s.WebhookSerializer,
    )
    def patch(self, request, webhook_id):
        subscription = _subscription(request, webhook_id)
        data = api.validated(s.WebhookUpdateInputSerializer, request.data, partial=True)
        try:
            subscription = services.webhook_subscription_update(subscription=subscription, **data)
        except services.SubscriptionRejected as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None
        return Response(s.WebhookSerializer(subscription).data)

    @extend_schema(summary="Delete a webhook", operation_id="webhooks_delete", responses={204: None})
    def delete(self, request, webhook_id):
        services.webhook_subscription_delete(subscription=_subscription(request, webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(APIView):
    @extend_schema(
        summary="List a webhook's deliveries",
        operation_id="webhooks_deliveries_list",
        parameters=[s.DeliveryListParamsSerializer, api.PageParamsSerializer],
        responses=api.page_serializer("WebhookDeliveryPage", s.WebhookDeliverySerializer(many=True)),
    )
    def get(self, request, webhook_id):
        subscription = _subscription(request, webhook_id)
        delivery_status = api.validated(s.DeliveryListParamsSerializer, request.query_params).get("status")
        deliveries = selectors.webhook_delivery_list(subscription=subscription, status=delivery_status)
        return api.paged(request, deliveries, s.WebhookDeliverySerializer)


class WebhookDeliveryDetailView(APIView):
    @extend_schema(
        summary="Get a delivery with its attempts",
        operation_id="webhooks_deliveries_get",
        responses=s.WebhookDeliverySerializer,
    )
    def get(self, request, webhook_id, delivery_id):
        return Response(s.WebhookDeliverySerializer(_delivery(request, webhook_id, delivery_id)).data)


class WebhookRedeliverView(APIView):
    @extend_schema(
        summary="Redeliver",
        operation_id="webhooks_deliveries_redeliver",
        description="Send a delivered or failed delivery once more (same id and payload, freshly signed).",
        request=None,
        responses={
            202: s.WebhookDeliverySerializer,
            409: OpenApiResponse(description="The delivery is still pending"),
        },
    )
    def post(self, request, webhook_id, delivery_id):
        delivery = services.webhook_event_redeliver(event=_delivery(request, webhook_id, delivery_id))
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
