from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

api_v1: list = [
    path("", include("imports.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("automations.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Unknown API paths answer in JSON like the rest of the API, not with an HTML page.
    re_path(r"", lambda request: JsonResponse({"detail": "Not found."}, status=404)),
]


def server_error(request, *args, **kwargs):
    """An unexpected failure: JSON under /api/, Django's page elsewhere; never a traceback."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal error: the request could not be completed."}, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)


handler500 = server_error

urlpatterns = [
    # The banner points people at the root: send them to the admin, which links the API docs.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]
