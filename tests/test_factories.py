"""Each factory makes a row its model accepts as it is, so tests built on them start from valid data."""

import pytest

from pixee.apikeys import api_key_authenticate

from . import factories

pytestmark = pytest.mark.django_db

FACTORIES = [
    factories.UserFactory,
    factories.ApiKeyFactory,
    factories.IdempotencyKeyFactory,
    factories.ProductFactory,
    factories.ImportJobFactory,
    factories.ImportLogFactory,
    factories.SupplierMappingFactory,
    factories.ProductChangeFactory,
    factories.AutomationFactory,
    factories.AutomationRunFactory,
    factories.WebhookSubscriptionFactory,
    factories.WebhookEventFactory,
    factories.WebhookAttemptFactory,
]


@pytest.mark.parametrize("factory_class", FACTORIES, ids=lambda f: f.__name__)
def test_the_factory_makes_rows_that_pass_the_model_s_validation(factory_class):
    first, second = factory_class.create_batch(2)
    for row in (first, second):
        row.full_clean()
    assert first.pk != second.pk


def test_an_api_key_from_the_factory_authenticates_and_a_user_can_log_in_with_the_given_password(client):
    api_key = factories.ApiKeyFactory()
    assert api_key_authenticate(api_key.raw_key) == api_key
    user = factories.UserFactory(superuser=True, password="a-password-1")
    assert (user.is_staff, user.is_superuser) == (True, True)
    assert client.login(username=user.username, password="a-password-1")


def test_a_change_record_holds_the_product_before_and_after_as_the_writers_record_it():
    change = factories.ProductChangeFactory(product__name="Chaise", new_name="Chaise pliante")
    assert (change.before["name"], change.after["name"]) == ("Chaise", "Chaise pliante")
    assert set(change.before) == set(change.after) and "updated_at" in change.before
