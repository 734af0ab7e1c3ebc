"""API plumbing shared by every app: pagination with ``skip``/``limit``, owner scoping, errors."""

import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.db.models import Model, QuerySet
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import Conflict, PayloadTooLarge, Unprocessable

# An id in a URL: a UUID, with or without its hyphens, in either case.
UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict:
    """``data`` (a request's query parameters or body) checked by ``serializer_class``; 400 otherwise."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PageParamsSerializer(serializers.Serializer):
    skip = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, default=0, help_text="Offset (default: 0)."
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=200, default=50, help_text="Items per page, max 200 (default: 50)."
    )


class PageMetaSerializer(serializers.Serializer):
    """The meta block of every page, field for field as the spec shows it for logs."""

    total = serializers.IntegerField(min_value=0, help_text="Items in all pages.")
    page = serializers.IntegerField(min_value=1, help_text="This page's number, from 1.")
    per_page = serializers.IntegerField(min_value=1, help_text="The limit asked for.")
    total_pages = serializers.IntegerField(min_value=0)
    has_next = serializers.BooleanField()
    has_previous = serializers.BooleanField()


def page_meta(*, total: int, skip: int, limit: int) -> dict[str, Any]:
    """The ``meta`` block (``PageMetaSerializer``) of the page at ``skip`` of ``total`` items."""
    return {
        "total": total,
        "page": skip // limit + 1,
        "per_page": limit,
        "total_pages": math.ceil(total / limit),
        "has_next": skip + limit < total,
        "has_previous": skip > 0,
    }


def page_serializer(name: str, item_serializer: serializers.Serializer) -> serializers.Serializer:
    """The schema of one page of ``item_serializer`` (``many=True``), as ``page_response`` answers."""
    return inline_serializer(name, {"items": item_serializer, "meta": PageMetaSerializer()})


def page_response(queryset: QuerySet, *, skip: int, limit: int, serialize: Callable[[list], Any]) -> Response:
    """``{"items": [...], "meta": {...}}`` for one page of ``queryset``, as the spec's logs show."""
    total = queryset.count()
    items = list(queryset[skip : skip + limit])
    return Response({"items": serialize(items), "meta": page_meta(total=total, skip=skip, limit=limit)})


def paged(request: Request, queryset: QuerySet, serializer_class: type[serializers.Serializer]) -> Response:
    """The page of ``queryset`` its ``skip``/``limit`` ask for, each item by ``serializer_class``."""
    page = validated(PageParamsSerializer, request.query_params)
    return page_response(queryset, **page, serialize=lambda items: serializer_class(items, many=True).data)


def owned_by(queryset: QuerySet, request: Request, owner_field: str = "created_by") -> QuerySet:
    """Staff see everything; anyone else only what their user created."""
    if request.user.is_staff:
        return queryset
    return queryset.filter(**{owner_field: request.user})


def get_owned_or_404(queryset: QuerySet, request: Request, **lookup: Any) -> Model:
    try:
        return owned_by(queryset, request).get(**lookup)
    except (
        queryset.model.DoesNotExist,
        ValueError,
        exceptions.ValidationError,
        DjangoValidationError,
    ) as exc:
        raise exceptions.NotFound() from exc


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, PayloadTooLarge):
        return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, OperationalError) and "locked" in str(exc):
        # SQLite (the embedded default) only: a write waited its whole busy timeout.
        return Response(
            {"detail": "The database is busy with another write; nothing was changed. Try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )
    if isinstance(exc, Unprocessable):
        return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    return drf_exception_handler(exc, context)
