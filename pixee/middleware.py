"""Request checks that hold for every view, the API's and the admin's alike."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


class RefuseNulInUrlMiddleware:
    """A NUL character in the URL's path or query answers 400.

    PostgreSQL cannot compare text with NUL, so a lookup on such a value (a product's EAN in the
    path, an admin list filter in the query) would fail with a 500 instead of finding nothing.
    Bodies are the serializers' and forms' business: their text fields refuse NUL already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values
        ):
            return JsonResponse({"detail": "The URL contains a NUL character (%00)."}, status=400)
        return self.get_response(request)
