import factory
from django.contrib.auth import get_user_model

from automations import services as automation_services
from automations.choices import RunStatus, RunTrigger
from automations.models import Automation, AutomationRun
from catalog.models import Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")


def ean13(n: int) -> str:
    """A valid EAN-13 built from ``n`` (the 12 first digits, then the GS1 check digit)."""
    from stdnum.ean import calc_check_digit

    body = f"{376000000000 + n:012d}"
    return body + calc_check_digit(body)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    ean = factory.Sequence(lambda n: ean13(900000 + n))
    name = factory.Sequence(lambda n: f"Product {n}")
    supplier_code = "SUPPLIER_A"


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription to ``import.completed``; ``url`` is an address literal (no DNS to check it)."""

    class Meta:
        model = "webhooks.WebhookSubscription"

    created_by = factory.SubFactory(UserFactory)
    url = "https://93.184.216.34/hooks/pixee"
    events = factory.LazyFunction(lambda: ["import.completed"])
    secret = factory.Faker("pystr", min_chars=43, max_chars=43)


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A pending delivery of ``import.completed`` to its subscription, not yet due."""

    class Meta:
        model = "webhooks.WebhookEvent"

    type = "import.completed"
    payload = factory.LazyAttribute(lambda event: {"id": str(event.id), "type": event.type, "data": {}})
    id = factory.Faker("uuid4", cast_to=None)
    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    url = factory.LazyAttribute(lambda event: event.subscription.url if event.subscription else "")


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "webhooks.WebhookAttempt"

    event = factory.SubFactory(WebhookEventFactory)
    number = 1
    status_code = 200


class AutomationFactory(factory.django.DjangoModelFactory):
    """An automation made as the API and the admin make one: through the service, which checks it
    and gives it its periodic task. ``file_source`` is the API's; create only (there is no build)."""

    class Meta:
        model = Automation

    created_by = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Automation {n}")
    supplier_code = "SUPPLIER_A"
    schedule = "0 2 * * *"
    file_source = factory.LazyFunction(lambda: {"type": "http", "url": "https://feeds.example.com/a.csv"})
    mapping = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class, *args, created_by, **kwargs):
        if "timezone" in kwargs:
            kwargs["timezone_name"] = kwargs.pop("timezone")
        return automation_services.automation_create(user=created_by, **kwargs)


class AutomationRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutomationRun

    automation = factory.SubFactory(AutomationFactory)
    status = RunStatus.RUNNING
    trigger = RunTrigger.SCHEDULE
