from rest_framework import serializers

from ..choices import DeliveryStatus, EventType
from ..models import WebhookAttempt, WebhookEvent, WebhookSubscription

_EVENT_CHOICE_ERROR = (
    '"{input}" is not a webhook event; expected some of: ' + ", ".join(EventType.values) + "."
)


def _events_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(
            choices=EventType.choices, error_messages={"invalid_choice": _EVENT_CHOICE_ERROR}
        ),
        allow_empty=False,
        help_text="Events to receive: " + ", ".join(EventType.values) + ".",
        **kwargs,
    )


class WebhookCreateInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="The http(s) endpoint that receives the POSTs.")
    events = _events_field()
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookUpdateInputSerializer(serializers.Serializer):
    events = _events_field(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="true re-enables a disabled webhook and forgets its past failures."
    )


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), read_only=True)
    disabled_reason = serializers.SerializerMethodField()

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "disabled_reason", "disabled_at", "created_at"]
        read_only_fields = fields

    def get_disabled_reason(self, subscription: WebhookSubscription) -> str | None:
        return subscription.disabled_reason or None


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery (Pixee-Signature); shown this once."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    attempt = serializers.IntegerField(source="number")

    class Meta:
        model = WebhookAttempt
        fields = ["attempt", "manual", "status_code", "duration_ms", "error", "response_body", "created_at"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.ChoiceField(source="type", choices=EventType.choices, read_only=True)
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "event",
            "status",
            "url",
            "attempt_count",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
            "attempts",
        ]
        read_only_fields = fields


class DeliveryListParamsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices, required=False, help_text="pending, delivered or failed."
    )
