from django.urls import re_path

from pixee.api import UUID_PATTERN

from . import views


def automation_path(suffix: str, view, name: str):
    # The spec's paths have no trailing slash; one is tolerated.
    return re_path(
        rf"^imports/automations/(?P<automation_id>{UUID_PATTERN}){suffix}/?$", view.as_view(), name=name
    )


urlpatterns = [
    re_path(r"^imports/automations/?$", views.AutomationListCreateView.as_view(), name="automation-list"),
    automation_path("", views.AutomationDetailView, "automation-detail"),
    automation_path("/run", views.AutomationRunNowView, "automation-run"),
    automation_path("/runs", views.AutomationRunListView, "automation-runs"),
    automation_path("/test", views.AutomationTestView, "automation-test"),
]
