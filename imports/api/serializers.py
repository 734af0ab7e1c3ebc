import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.vocabulary import FIELDS, ImportedField

from ..choices import ImportStatus, LogLevel, OnInvalidValue
from ..models import ImportJob, ImportLog, SupplierMapping
from ..services import MAX_ERRORS_VALIDATORS


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": 'File column → product field; "" ignores a column.',
    }
)
class MappingField(serializers.JSONField):
    """A JSON object, given as JSON text in a multipart form or as an object in a JSON body."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not data.strip():
                return {}
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise serializers.ValidationError(
                    f"mapping is not valid JSON: {exc.msg} at character {exc.pos}."
                ) from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("mapping must be a JSON object of file column → product field.")
        return data


class ImportJobCreateInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The import file. Accepted formats: .csv, .xlsx, .json, .xml.")
    supplier_code = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(required=False, default=False)
    mapping = MappingField(required=False, default=dict, help_text="File column → product field.")
    webhook_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=2000)
    max_errors = serializers.IntegerField(
        required=False, allow_null=True, default=None, validators=list(MAX_ERRORS_VALIDATORS)
    )
    # No default here: an upload that gives none takes its supplier's stored choice.
    on_invalid_value = serializers.ChoiceField(
        choices=OnInvalidValue.choices,
        required=False,
        help_text="skip_row: a bad value rejects its row; skip_value: the row is kept without it "
        "(never for ean, nor for a new product's name). Without it: the supplier's stored "
        "on_invalid_value, else skip_row.",
    )


class ImportJobCreatedSerializer(serializers.ModelSerializer):
    webhook_secret = serializers.CharField(
        required=False,
        help_text="Signs this job's webhook deliveries (Pixee-Signature); present, and shown this once, "
        "when webhook_url was given.",
    )

    class Meta:
        model = ImportJob
        fields = ["id", "status", "file_name", "file_type", "webhook_secret"]

    def to_representation(self, job: ImportJob) -> dict:
        body = super().to_representation(job)
        if not job.webhook_secret:
            del body["webhook_secret"]
        return body


class ImportJobSerializer(serializers.ModelSerializer):
    successful_rows = serializers.IntegerField(read_only=True)
    progress = serializers.IntegerField(read_only=True)
    rows_per_second = serializers.FloatField(read_only=True, allow_null=True)
    eta_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    error_summary = serializers.SerializerMethodField()
    mapping = MappingField(read_only=True, help_text="The effective mapping: file column → product field.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "file_name",
            "file_type",
            "file_size",
            "status",
            "total_rows",
            "successful_rows",
            "failed_rows",
            "products_created",
            "products_updated",
            "started_at",
            "completed_at",
            "error_summary",
            "supplier_code",
            "dry_run",
            "processed_rows",
            "progress",
            "products_unchanged",
            "mapping",
            "mapping_sources",
            "on_invalid_value",
            "created_at",
            "rows_per_second",
            "eta_seconds",
            "reverted_at",
            "products_restored",
            "products_deleted",
            "products_skipped",
        ]
        read_only_fields = fields

    def get_error_summary(self, job: ImportJob) -> str | None:
        return job.error_summary or None


class ImportJobListParamsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ImportStatus.choices, required=False)
    supplier_code = serializers.CharField(required=False)


class JobStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "status"]
        read_only_fields = fields


class LogParamsSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=LogLevel.choices, required=False, help_text="error, warning or info."
    )


class ImportLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportLog
        fields = ["row_number", "level", "field", "message", "value", "timestamp"]
        read_only_fields = fields


class PreviewParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


class ValidationErrorSerializer(serializers.Serializer):
    row_number = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()
    value = serializers.CharField()


def _preview_value(field: ImportedField) -> serializers.Field:
    if field.kind == "decimal":
        return serializers.DecimalField(
            max_digits=field.max_digits,
            decimal_places=field.decimal_places,
            allow_null=True,
            coerce_to_string=False,
        )
    if field.kind == "integer":
        return serializers.IntegerField(allow_null=True)
    if field.kind == "json":
        return serializers.DictField(allow_null=True)
    return serializers.CharField(allow_null=True)


# A class of its own, built from the vocabulary: a field added to Product appears here too.
PreviewRowSerializer = type(
    "PreviewRowSerializer",
    (serializers.Serializer,),
    {
        "__module__": __name__,
        "__doc__": "A row as the import reads it: the parsed values only, null where a value is invalid or "
        "absent, and the row's errors.",
        "row_number": serializers.IntegerField(),
        **{name: _preview_value(field) for name, field in FIELDS.items()},
        "errors": ValidationErrorSerializer(many=True),  # the output key
    },
)


class PreviewSerializer(serializers.Serializer):
    total_rows = serializers.IntegerField(allow_null=True)
    preview = PreviewRowSerializer(many=True)
    validation_errors = ValidationErrorSerializer(many=True)


class ChangeParamsSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[(a, a) for a in ("created", "updated", "unchanged", "failed")],
        required=False,
        help_text="created, updated, unchanged or failed.",
    )


class FieldChangeSerializer(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class ChangeSerializer(serializers.Serializer):
    row_number = serializers.IntegerField()
    ean = serializers.CharField(allow_null=True)
    action = serializers.ChoiceField(choices=[(a, a) for a in ("created", "updated", "unchanged", "failed")])
    fields = serializers.DictField(child=FieldChangeSerializer())  # type: ignore[assignment]


class SupplierMappingInputSerializer(serializers.Serializer):
    mapping = MappingField(
        help_text="File column → product field; used by uploads for this supplier without one."
    )
    on_invalid_value = serializers.ChoiceField(
        choices=OnInvalidValue.choices,
        default=OnInvalidValue.SKIP_ROW,
        help_text="Used by uploads for this supplier that do not give one (skip_row or skip_value).",
    )


class ReanalyzeInputSerializer(SupplierMappingInputSerializer):
    on_invalid_value = serializers.ChoiceField(
        choices=OnInvalidValue.choices, required=False, help_text="Without it: the job's current one."
    )


class SupplierMappingSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupplierMapping
        fields = ["supplier_code", "mapping", "on_invalid_value", "updated_at"]
