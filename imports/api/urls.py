from django.urls import re_path

from pixee.api import UUID_PATTERN

from . import views


def job_path(suffix: str, view, name: str):
    # The spec's paths have no trailing slash; one is tolerated.
    return re_path(rf"^imports/jobs/(?P<job_id>{UUID_PATTERN}){suffix}/?$", view.as_view(), name=name)


urlpatterns = [
    re_path(
        r"^imports/suppliers/(?P<supplier_code>[^/]{1,100})/mapping/?$",
        views.SupplierMappingView.as_view(),
        name="supplier-mapping",
    ),
    re_path(r"^imports/jobs/?$", views.ImportJobListCreateView.as_view(), name="import-job-list"),
    job_path("", views.ImportJobDetailView, "import-job-detail"),
    job_path("/pause", views.ImportJobPauseView, "import-job-pause"),
    job_path("/resume", views.ImportJobResumeView, "import-job-resume"),
    job_path("/cancel", views.ImportJobCancelView, "import-job-cancel"),
    job_path("/confirm", views.ImportJobConfirmView, "import-job-confirm"),
    job_path("/reanalyze", views.ImportJobReanalyzeView, "import-job-reanalyze"),
    job_path("/logs", views.ImportJobLogsView, "import-job-logs"),
    job_path("/changes", views.ImportJobChangesView, "import-job-changes"),
    job_path("/revert", views.ImportJobRevertView, "import-job-revert"),
    job_path("/preview", views.ImportJobPreviewView, "import-job-preview"),
    job_path(r"/errors\.csv", views.ImportJobErrorReportView, "import-job-errors"),
]
