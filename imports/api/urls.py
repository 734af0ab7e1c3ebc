from django.urls import re_path

from . import views

# The spec's paths have no trailing slash; one is tolerated.
urlpatterns = [
    re_path(r"^imports/jobs/?$", views.ImportJobListCreateView.as_view(), name="import-job-list"),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/?$",
        views.ImportJobDetailView.as_view(),
        name="import-job-detail",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/pause/?$",
        views.ImportJobPauseView.as_view(),
        name="import-job-pause",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/resume/?$",
        views.ImportJobResumeView.as_view(),
        name="import-job-resume",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/cancel/?$",
        views.ImportJobCancelView.as_view(),
        name="import-job-cancel",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/confirm/?$",
        views.ImportJobConfirmView.as_view(),
        name="import-job-confirm",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/logs/?$",
        views.ImportJobLogsView.as_view(),
        name="import-job-logs",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/preview/?$",
        views.ImportJobPreviewView.as_view(),
        name="import-job-preview",
    ),
    re_path(
        r"^imports/jobs/(?P<job_id>[0-9a-fA-F-]{36})/errors\.csv$",
        views.ImportJobErrorReportView.as_view(),
        name="import-job-errors",
    ),
]
