"""Owner isolation over every object endpoint: another non-staff key gets 404 and changes nothing,
lists are filtered, a staff key sees and acts on everything.

The table below must name every operation of the OpenAPI schema that takes an object id, so an
endpoint added without its isolation check fails ``test_every_object_endpoint_is_covered``.
"""

from __future__ import annotations

import json

import pytest

from .conftest import Owned, make_owned

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def owned(api) -> Owned:
    return make_owned(api.user)


# (method, path as the schema writes it, body): every operation on an owned object.
J = "/api/v1/imports/jobs/{job_id}"
A = "/api/v1/imports/automations/{automation_id}"
W = "/api/v1/webhooks/{webhook_id}"
ENDPOINTS = [
    ("GET", J, None),
    ("GET", J + "/logs", None),
    ("GET", J + "/preview", None),
    ("GET", J + "/errors.csv", None),
    ("POST", J + "/pause", None),
    ("POST", J + "/resume", None),
    ("POST", J + "/confirm", None),
    ("POST", J + "/cancel", None),
    ("GET", J + "/changes", None),
    ("POST", J + "/reanalyze", {"mapping": {"ean": "ean"}}),
    ("POST", J + "/revert", None),
    ("GET", A, None),
    ("PATCH", A, {"name": "Renamed", "is_active": False}),
    ("POST", A + "/run", {}),
    ("GET", A + "/runs", None),
    ("POST", A + "/test", None),
    ("DELETE", A, None),
    ("GET", W, None),
    ("PATCH", W, {"events": ["import.failed"]}),
    ("GET", W + "/deliveries", None),
    ("GET", W + "/deliveries/{delivery_id}", None),
    ("POST", W + "/deliveries/{delivery_id}/redeliver", None),
    ("DELETE", W, None),
]


def call(client, method: str, path: str, body, ids: dict[str, str]):
    payload = json.dumps(body) if body is not None else ""
    response = client.generic(method, path.format(**ids), payload, content_type="application/json")
    if response.streaming:  # errors.csv: read it all, as a client would, within the test
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_another_owner_gets_404_and_changes_nothing_while_staff_may_act(
    api, other_api, staff_api, owned, method, path, body
):
    before = owned.snapshot()
    response = call(other_api, method, path, body, owned.ids())
    assert response.status_code == 404, (response.status_code, response.content)
    assert response.json() == {"detail": "Not found."}  # the answer for an id that does not exist
    assert owned.snapshot() == before

    # 409: the action exists but the object's state refuses it (pausing a completed job).
    assert call(api, method, path, body, owned.ids()).status_code in (200, 202, 204, 409)
    theirs = make_owned(other_api.user)
    response = call(staff_api, method, path, body, theirs.ids())
    assert response.status_code in (200, 202, 204, 409), (response.status_code, response.content)


LISTS = {
    "/api/v1/imports/jobs": lambda o: o.job,
    "/api/v1/imports/automations": lambda o: o.automation,
    "/api/v1/webhooks": lambda o: o.webhook,
    "/api/v1/imports/automations/{automation_id}/runs": lambda o: o.run,
    "/api/v1/webhooks/{webhook_id}/deliveries": lambda o: o.delivery,
}


@pytest.mark.parametrize("path", LISTS)
def test_lists_hold_only_the_callers_objects_and_staff_sees_all(api, other_api, staff_api, owned, path):
    theirs = make_owned(other_api.user)
    pick = LISTS[path]

    def listed(client, objects: Owned) -> set[str]:
        response = client.get(path.format(**objects.ids()))
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert listed(api, owned) == {str(pick(owned).pk)}
    assert listed(other_api, theirs) == {str(pick(theirs).pk)}
    if "{" in path:
        # A list under another owner's object: 404, not an empty page.
        assert other_api.get(path.format(**owned.ids())).status_code == 404
        assert listed(staff_api, owned) == {str(pick(owned).pk)}
    else:
        assert listed(staff_api, owned) == {str(pick(owned).pk), str(pick(theirs).pk)}


def test_a_delivery_is_found_only_under_its_own_webhook(api, other_api, owned):
    theirs = make_owned(other_api.user)
    # My webhook's path with their delivery id: the pair must match, not only the webhook.
    response = api.get(f"/api/v1/webhooks/{owned.webhook.pk}/deliveries/{theirs.delivery.pk}")
    assert response.status_code == 404
    response = api.post(f"/api/v1/webhooks/{owned.webhook.pk}/deliveries/{theirs.delivery.pk}/redeliver")
    assert response.status_code == 404


def test_every_object_endpoint_is_covered(api):
    from tests.api.test_schema_fuzz import operations

    covered = {(m, p) for m, p, _ in ENDPOINTS}
    with_ids = {
        (o.method.upper(), o.path)
        for o in operations()
        if "{" in o.path
        and not o.path.startswith("/api/v1/catalog/")  # the catalog is shared
        # A supplier's mapping is found by the caller and the code, never by another's id:
        # tests/imports/test_supplier_mappings.py checks that one user never sees another's.
        and not o.path.startswith("/api/v1/imports/suppliers/")
    }
    assert with_ids == covered, with_ids ^ covered
