"""Thin views: an input serializer validates, a service or selector acts, an output serializer answers."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from pixee import api

from .. import selectors, services
from ..models import Automation
from . import serializers as s


def _automation(request, automation_id) -> Automation:
    return api.get_owned_or_404(  # type: ignore[return-value]
        selectors.automation_list(automations=Automation.objects.all()), request, pk=automation_id
    )


def _service_kwargs(data: dict) -> dict:
    """The input serializer's names → the services' (``timezone`` is a module name there)."""
    data = dict(data)
    if "timezone" in data:
        data["timezone_name"] = data.pop("timezone")
    return data


def _answer(automation: Automation, code: int = status.HTTP_200_OK) -> Response:
    # Re-read through the selector so last_run_* are those of the list and detail views.
    fresh = selectors.automation_list(automations=Automation.objects.filter(pk=automation.pk)).get()
    return Response(s.AutomationSerializer(fresh).data, status=code)


_PAGE = api.page_serializer("AutomationPage", s.AutomationSerializer(many=True))
_RUN_PAGE = api.page_serializer("AutomationRunPage", s.AutomationRunSerializer(many=True))


class AutomationListCreateView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="imports_automations_list",
        summary="List automations",
        parameters=[api.PageParamsSerializer],
        responses=_PAGE,
    )
    def get(self, request):
        automations = selectors.automation_list(automations=api.owned_by(Automation.objects.all(), request))
        return api.paged(request, automations, s.AutomationSerializer)

    @extend_schema(
        operation_id="imports_automations_create",
        summary="Create an automated import",
        request=s.AutomationInputSerializer,
        responses={201: s.AutomationSerializer},
    )
    def post(self, request):
        data = api.validated(s.AutomationInputSerializer, request.data)
        try:
            automation = services.automation_create(user=request.user, **_service_kwargs(data))
        except services.AutomationInvalid as exc:
            raise ValidationError(exc.errors) from None
        return _answer(automation, status.HTTP_201_CREATED)


class AutomationDetailView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="imports_automations_get", summary="Get an automation", responses=s.AutomationSerializer
    )
    def get(self, request, automation_id):
        return Response(s.AutomationSerializer(_automation(request, automation_id)).data)

    @extend_schema(
        operation_id="imports_automations_update",
        summary="Update an automation",
        description="Fields left out keep their value. file_source is merged: secrets need not be re-sent, "
        '"" clears one; a new type replaces the whole source.',
        request=s.AutomationInputSerializer(partial=True),
        responses=s.AutomationSerializer,
    )
    def patch(self, request, automation_id):
        automation = _automation(request, automation_id)
        data = api.validated(s.AutomationInputSerializer, request.data, partial=True)
        try:
            automation = services.automation_update(
                automation=automation, actor=request.user, **_service_kwargs(data)
            )
        except services.AutomationInvalid as exc:
            raise ValidationError(exc.errors) from None
        return _answer(automation)

    @extend_schema(
        operation_id="imports_automations_delete", summary="Delete an automation", responses={204: None}
    )
    def delete(self, request, automation_id):
        services.automation_delete(automation=_automation(request, automation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AutomationRunNowView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="imports_automations_run",
        summary="Run an automation now",
        request=s.RunNowInputSerializer,
        responses={
            202: s.AutomationRunSerializer,
            409: OpenApiResponse(description="A run of this automation is in progress"),
        },
    )
    def post(self, request, automation_id):
        automation = _automation(request, automation_id)
        force = api.validated(s.RunNowInputSerializer, request.data)["force"]
        run = services.automation_run_request(automation=automation, force=force)
        return Response(s.AutomationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AutomationTestView(APIView):
    @extend_schema(
        operation_id="imports_automations_test",
        summary="Test an automation's file source",
        description="Connects, authenticates and checks the path as a run would; imports nothing.",
        request=None,
        responses={200: s.SourceTestSerializer},
    )
    def post(self, request, automation_id):
        result = services.automation_test(automation=_automation(request, automation_id))
        return Response(s.SourceTestSerializer(result).data)


class AutomationRunListView(APIView):
    @extend_schema(
        operation_id="imports_automations_runs",
        summary="List an automation's runs",
        parameters=[api.PageParamsSerializer],
        responses=_RUN_PAGE,
    )
    def get(self, request, automation_id):
        automation = _automation(request, automation_id)
        runs = selectors.automation_run_list(automation=automation)
        return api.paged(request, runs, s.AutomationRunSerializer)
