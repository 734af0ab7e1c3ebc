"""An id in a URL is one pattern (``pixee.api.UUID_PATTERN``) for every resource."""

import pytest

from tests.factories import AutomationFactory, ImportJobFactory, WebhookSubscriptionFactory

RESOURCES = {
    "imports/jobs": ImportJobFactory,
    "imports/automations": AutomationFactory,
    "webhooks": WebhookSubscriptionFactory,
}


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize(
    "spell", [str, lambda pk: pk.hex, lambda pk: str(pk).upper()], ids=["hyphens", "hex", "upper"]
)
def test_every_resource_takes_its_id_with_or_without_hyphens_in_any_case(api, user, path, spell):
    pk = RESOURCES[path](created_by=user).pk
    response = api.get(f"/api/v1/{path}/{spell(pk)}")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(pk)


@pytest.mark.parametrize("path", RESOURCES)
def test_an_id_of_36_hyphens_is_not_found(api, path):
    assert api.get(f"/api/v1/{path}/{'-' * 36}").status_code == 404
