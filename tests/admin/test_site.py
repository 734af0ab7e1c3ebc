"""The admin site itself: its name and the order of its apps."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_index_is_branded_and_lists_apps_in_working_order(admin_client):
    response = admin_client.get(reverse("admin:index"))
    html = response.content.decode()
    labels = [app["app_label"] for app in response.context["app_list"]]
    assert "<title>Operations | Pixee Imports</title>" in html
    assert '<a href="/admin/">Pixee Imports</a>' in html
    assert labels.index("imports") < labels.index("catalog") < labels.index("pixee") < labels.index("auth")
    assert "/api/v1/docs/" in html
