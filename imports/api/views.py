"""Thin views: an input serializer validates, a service or selector acts, an output serializer answers."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiRequest,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from pixee.api import (
    PageParamsSerializer,
    get_owned_or_404,
    owned_by,
    page_serializer,
    paged,
    validated,
)
from pixee.errors import PayloadTooLarge
from pixee.limits import max_upload_bytes

from .. import changes, reports, selectors, services
from ..models import ImportJob, SupplierMapping
from . import serializers as s


@contextmanager
def _field_errors() -> Iterator[None]:
    """A service's ``UploadRejected`` as DRF's 400, under the field it names."""
    try:
        yield
    except services.UploadRejected as exc:
        raise ValidationError({exc.field: [str(exc)]}) from None


def _job(request, job_id) -> ImportJob:
    return get_owned_or_404(ImportJob.objects.all(), request, pk=job_id)  # type: ignore[return-value]


class ImportJobListCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "uploads"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        operation_id="imports_jobs_list",
        summary="List imports",
        parameters=[s.ImportJobListParamsSerializer, PageParamsSerializer],
        responses=page_serializer("ImportJobPage", s.ImportJobSerializer(many=True)),
    )
    def get(self, request):
        filters = validated(s.ImportJobListParamsSerializer, request.query_params)
        jobs = selectors.import_job_list(jobs=owned_by(ImportJob.objects.all(), request), **filters)
        return paged(request, jobs, s.ImportJobSerializer)

    @extend_schema(
        operation_id="imports_jobs_create",
        summary="Create an import",
        # mapping travels as a JSON text part: without the encoding, generated clients send a repr.
        request={
            "multipart/form-data": OpenApiRequest(
                s.ImportJobCreateInputSerializer, encoding={"mapping": {"contentType": "application/json"}}
            )
        },
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Retry safely: the same key and request answer the same job; "
                "the same key with another request answers 422.",
            )
        ],
        responses={
            201: s.ImportJobCreatedSerializer,
            413: OpenApiResponse(description="File too large"),
            422: OpenApiResponse(description="The Idempotency-Key was used with another request"),
        },
    )
    def post(self, request):
        # Refuse before reading the body when the client announces a larger upload.
        if int(request.META.get("CONTENT_LENGTH") or 0) > max_upload_bytes() + 64 * 1024:
            raise PayloadTooLarge(f"The upload exceeds the {settings.PIXEE_MAX_UPLOAD_MB} MB limit.")
        data = validated(s.ImportJobCreateInputSerializer, request.data)
        with _field_errors():
            job = services.import_job_create_once(
                user=request.user, idempotency_key=request.headers.get("Idempotency-Key"), **data
            )
        return Response(s.ImportJobCreatedSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportJobDetailView(APIView):
    @extend_schema(
        operation_id="imports_jobs_get", summary="Get import status", responses=s.ImportJobSerializer
    )
    def get(self, request, job_id):
        return Response(s.ImportJobSerializer(_job(request, job_id)).data)


class _ImportJobActionView(APIView):
    """POST …/{action}: one subclass per action, so the schema documents each."""

    def post(self, request, job_id):
        job = self.service(job=_job(request, job_id))
        return Response(s.JobStatusSerializer(job).data)


def _action_view(name: str, service, summary: str) -> type[APIView]:
    view = type(f"ImportJob{name.title()}View", (_ImportJobActionView,), {"service": staticmethod(service)})
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"imports_jobs_{name}",
            summary=summary,
            request=None,
            responses={
                200: s.JobStatusSerializer,
                409: OpenApiResponse(description="Not allowed in the job's status"),
            },
        )
    )(view)


ImportJobPauseView = _action_view("pause", services.import_job_pause, "Pause a running job")
ImportJobResumeView = _action_view("resume", services.import_job_resume, "Resume a paused job")
ImportJobCancelView = _action_view("cancel", services.import_job_cancel, "Cancel and discard the job")
ImportJobConfirmView = _action_view("confirm", services.import_job_confirm, "Confirm a ready dry run")


class ImportJobLogsView(APIView):
    @extend_schema(
        operation_id="imports_jobs_logs",
        summary="Get import logs",
        parameters=[s.LogParamsSerializer, PageParamsSerializer],
        responses=page_serializer("ImportLogPage", s.ImportLogSerializer(many=True)),
    )
    def get(self, request, job_id):
        job = _job(request, job_id)
        level = validated(s.LogParamsSerializer, request.query_params).get("level")
        logs = selectors.import_log_list(job=job, level=level)
        return paged(request, logs, s.ImportLogSerializer)


class ImportJobChangesView(APIView):
    @extend_schema(
        operation_id="imports_jobs_changes",
        summary="List what an import changes",
        description="For a dry run at ready: what confirming will do to the catalog as it is now; "
        "afterwards: what the job did. File order; `fields` holds before → after for updates.",
        parameters=[s.ChangeParamsSerializer, PageParamsSerializer],
        responses={
            200: page_serializer("ImportChangePage", s.ChangeSerializer(many=True)),
            409: OpenApiResponse(
                description="The job's changes are not known yet, or its file was discarded"
            ),
        },
    )
    def get(self, request, job_id):
        job = _job(request, job_id)
        action = validated(s.ChangeParamsSerializer, request.query_params).get("action")
        page = validated(PageParamsSerializer, request.query_params)
        return Response(changes.import_job_changes(job=job, action=action, **page))


class ImportJobRevertView(APIView):
    @extend_schema(
        operation_id="imports_jobs_revert",
        summary="Revert an import",
        description="Restores every product the job updated and deletes every product it created, "
        "except those a later import changed since (left alone and listed in the logs). Runs in the "
        "background; the job's reverted_at and revert counters tell when it is done.",
        request=None,
        responses={
            202: s.ImportJobSerializer,
            409: OpenApiResponse(description="Not completed or cancelled, or already reverted"),
        },
    )
    def post(self, request, job_id):
        job = services.import_job_revert(job=_job(request, job_id))
        return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobPreviewView(APIView):
    # Reading a stored file is the web tier's most expensive answer: rationed per user.
    throttle_scope = "file_reads"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(
        operation_id="imports_jobs_preview",
        summary="Preview import",
        parameters=[s.PreviewParamsSerializer],
        responses={
            200: s.PreviewSerializer,
            409: OpenApiResponse(description="The job's stored file was discarded (cancelled job)"),
        },
    )
    def get(self, request, job_id):
        job = _job(request, job_id)
        limit = validated(s.PreviewParamsSerializer, request.query_params)["limit"]
        return Response(selectors.import_job_preview(job=job, limit=limit))


class ImportJobErrorReportView(APIView):
    throttle_scope = "file_reads"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(
        operation_id="imports_jobs_errors_csv",
        summary="Error report (CSV)",
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The rejected rows + row_number, field, message"
            ),
            409: OpenApiResponse(
                description="No report: the stored file was discarded (cancelled job) or cannot be read"
            ),
        },
    )
    def get(self, request, job_id):
        job = _job(request, job_id)
        response = StreamingHttpResponse(
            reports.error_report_csv(job=job), content_type="text/csv; charset=utf-8"
        )
        stem = job.file_name.rsplit(".", 1)[0]
        # RFC 6266: quoted when ASCII, filename*=utf-8'' otherwise (not the MIME encoding Django
        # would give a non-Latin-1 header, which browsers do not read as a file name).
        response["Content-Disposition"] = content_disposition_header(True, f"{stem}-errors.csv")
        return response


class SupplierMappingView(APIView):
    """A supplier's stored mapping, scoped to the caller like jobs."""

    parser_classes = [JSONParser]  # one body type: generated clients choke on several

    def _stored(self, request, supplier_code) -> SupplierMapping:
        return get_owned_or_404(  # type: ignore[return-value]
            SupplierMapping.objects.filter(created_by=request.user), request, supplier_code=supplier_code
        )

    @extend_schema(
        operation_id="imports_suppliers_mapping_get",
        summary="Get a supplier's stored mapping",
        responses=s.SupplierMappingSerializer,
    )
    def get(self, request, supplier_code):
        return Response(s.SupplierMappingSerializer(self._stored(request, supplier_code)).data)

    @extend_schema(
        summary="Store a supplier's mapping",
        request=s.SupplierMappingInputSerializer,
        responses=s.SupplierMappingSerializer,
    )
    def put(self, request, supplier_code):
        data = validated(s.SupplierMappingInputSerializer, request.data)
        with _field_errors():
            stored = services.supplier_mapping_save(user=request.user, supplier_code=supplier_code, **data)
        return Response(s.SupplierMappingSerializer(stored).data)

    @extend_schema(
        operation_id="imports_suppliers_mapping_delete",
        summary="Forget a supplier's stored mapping",
        responses={204: None},
    )
    def delete(self, request, supplier_code):
        services.supplier_mapping_delete(mapping=self._stored(request, supplier_code))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportJobReanalyzeView(APIView):
    parser_classes = [JSONParser]  # one body type: generated clients choke on several

    @extend_schema(
        operation_id="imports_jobs_reanalyze",
        summary="Re-run the analysis with a new mapping",
        request=s.ReanalyzeInputSerializer,
        responses={
            202: s.JobStatusSerializer,
            409: OpenApiResponse(description="Not ready, or failed after writing"),
        },
    )
    def post(self, request, job_id):
        job = _job(request, job_id)
        data = validated(s.ReanalyzeInputSerializer, request.data)
        with _field_errors():
            job = services.import_job_reanalyze(job=job, **data)
        return Response(s.JobStatusSerializer(job).data, status=status.HTTP_202_ACCEPTED)
