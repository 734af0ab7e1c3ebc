"""factory-boy factories for the models: a valid, typical row each, any field overridable.

The blocks follow the apps; the automations and webhooks factories have blocks of their own.
"""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from stdnum.ean import calc_check_digit

from automations import services as automation_services
from automations.choices import RunStatus, RunTrigger
from automations.models import Automation, AutomationRun
from catalog.models import Product, ProductChange
from catalog.upsert import recorded
from imports.choices import FileType, LogLevel
from imports.models import ImportJob, ImportLog, SupplierMapping
from pixee.apikeys import api_key_create
from pixee.models import ApiKey, IdempotencyKey

# --- pixee: users, API keys, idempotency keys ---------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    class Params:
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(user, create, raw_password, **kwargs):
        """``UserFactory(password=...)`` gives a password to log in with (hashing is slow, so only
        then); otherwise the user has none that works, as ``create_user`` without one leaves it."""
        if raw_password:
            user.set_password(raw_password)
        else:
            user.set_unusable_password()
        if create:
            user.save(update_fields=["password"])


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A key made by the service, so that it authenticates; the raw key is on ``.raw_key``."""

    class Meta:
        model = ApiKey

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"key {n}")

    @classmethod
    def _create(cls, model_class, *, user, name, **fields):
        api_key, raw_key = api_key_create(user=user, name=name)
        if fields:
            for field, value in fields.items():
                setattr(api_key, field, value)
            api_key.save(update_fields=list(fields))
        api_key.raw_key = raw_key
        return api_key


class IdempotencyKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyKey

    user = factory.SubFactory(UserFactory)
    scope = "imports.job"
    key = factory.Sequence(lambda n: f"retry-{n}")
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")


# --- catalog: products and their change records -------------------------------------------------


def ean13(n: int) -> str:
    """A valid EAN-13 built from ``n`` (the 12 first digits, then the GS1 check digit)."""
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


# --- imports: jobs, their logs, suppliers' mappings ---------------------------------------------


class ImportJobFactory(factory.django.DjangoModelFactory):
    """A job as an upload leaves it (pending, no stored file); pass the status and counters a
    test needs. Its file is not stored: use ``tests.imports.helpers`` to run a real upload."""

    class Meta:
        model = ImportJob

    created_by = factory.SubFactory(UserFactory)
    file_name = factory.Sequence(lambda n: f"catalog-{n}.csv")
    file_type = FileType.CSV
    supplier_code = "SUPPLIER_A"


class ImportLogFactory(factory.django.DjangoModelFactory):
    """A row's error, as the analysis logs one; ``level=LogLevel.INFO, row_number=None`` for a milestone."""

    class Meta:
        model = ImportLog

    job = factory.SubFactory(ImportJobFactory)
    row_number = factory.Sequence(lambda n: n + 2)  # the header is row 1
    level = LogLevel.ERROR
    field = "ean"
    message = "EAN check digit invalid"
    value = "3760000000000"
    timestamp = factory.LazyFunction(timezone.now)


class SupplierMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierMapping

    created_by = factory.SubFactory(UserFactory)
    supplier_code = factory.Sequence(lambda n: f"SUPPLIER_{n}")
    mapping = factory.LazyFunction(lambda: {"EAN": "ean", "Titre": "name", "Prix HT": "price"})


class ProductChangeFactory(factory.django.DjangoModelFactory):
    """An import's update of ``product`` (renamed by default), recorded as the writers record it."""

    class Meta:
        model = ProductChange

    class Params:
        product = factory.SubFactory(ProductFactory)
        job = factory.SubFactory(ImportJobFactory)
        new_name = factory.LazyAttribute(lambda o: f"{o.product.name} (updated)")

    job_id = factory.SelfAttribute("job.pk")
    row_number = factory.Sequence(lambda n: n + 2)
    ean = factory.SelfAttribute("product.ean")
    before = factory.LazyAttribute(lambda o: recorded(o.product))
    after = factory.LazyAttribute(lambda o: {**recorded(o.product), "name": o.new_name})
    previous_job = factory.SelfAttribute("product.last_job")
