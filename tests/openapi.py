"""Every API answer the tests receive, checked against the served OpenAPI schema with openapi-core.

``tests/conftest.py`` wraps the test client's ``request`` (DRF's ``APIClient`` included) with
:func:`check_response`, so an endpoint or a field added anywhere is checked by the tests that call
it, without a list to keep up to date.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

API_PREFIX = "/api/v1/"
# The schema and the docs describe the API; they are not part of it.
NOT_OPERATIONS = ("/api/v1/schema", "/api/v1/docs")


@cache
def served_schema() -> OpenAPI:
    """The schema ``/api/v1/schema/`` serves, generated once per test session."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # drf-spectacular's lazy strings and enums → plain JSON types, as the served document has them.
    import json

    from drf_spectacular.renderers import OpenApiJsonRenderer

    return OpenAPI.from_dict(json.loads(OpenApiJsonRenderer().render(schema)))


class _Request:
    """The openapi-core view of the request a test sent (found in the schema by its path)."""

    def __init__(self, request) -> None:
        self.request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.GET.lists())),
            header=Headers(request.headers.items()),
            cookie=ImmutableMultiDict(dict(request.COOKIES)),
        )

    host_url = "http://testserver"

    @property
    def path(self) -> str:
        # Our URL patterns tolerate a trailing slash that the schema's paths do not have.
        return self.request.path.rstrip("/")

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return None

    @property
    def content_type(self) -> str:
        return self.request.content_type or ""


def _buffer_stream(response: StreamingHttpResponse) -> None:
    # Read the stream once for the check and give the test the same bytes to read afterwards.
    content = b"".join(response.streaming_content)  # type: ignore[arg-type]
    response.streaming_content = [content]


def check_response(response: Any) -> None:
    """Raise when ``response`` (from the test client) is not what the schema says its operation answers."""
    request = getattr(response, "wsgi_request", None)
    if request is None or not isinstance(response, (HttpResponse, StreamingHttpResponse)):
        return
    if not request.path.startswith(API_PREFIX) or request.path.startswith(NOT_OPERATIONS):
        return
    if response.status_code >= 500:
        # A server error is no operation's answer: the tests that provoke one check its shape
        # (JSON, one sentence), and any other test expecting success fails on the status anyway.
        return
    if isinstance(response, StreamingHttpResponse):
        _buffer_stream(response)
    try:
        served_schema().validate_response(_Request(request), DjangoOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        # Not an operation (an unknown path, a method the path does not have): nothing to hold
        # the answer to, beyond the tests of those answers themselves.
        return
    except Exception as exc:
        body = b"" if isinstance(response, StreamingHttpResponse) else response.content
        raise AssertionError(
            f"{request.method} {request.get_full_path()} → {response.status_code} does not match the "
            f"OpenAPI schema: {exc!r}\n{getattr(exc, '__cause__', None)!r}\n{body[:2000]!r}"
        ) from exc
