from typing import Any

from rest_framework import serializers

from imports.api.serializers import MappingField
from imports.choices import OnInvalidValue

from ..choices import RunStatus
from ..models import Automation, AutomationRun
from ..selectors import automation_next_runs, automation_schedule_description
from ..sources import Declared, SourceConfigError, all_settings, source_types


def _help(declared: Declared) -> str | None:
    return declared.options.help_text or None


def _type_field() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=source_types(), help_text=f"One of {', '.join(source_types())}.")


def _input_field(declared: Declared) -> serializers.Field:
    options = declared.options
    if declared.kind is int:
        return serializers.IntegerField(
            min_value=options.min_value,
            max_value=options.max_value,
            required=False,
            allow_null=True,
            help_text=_help(declared),
        )
    if declared.kind is dict:
        return serializers.DictField(
            child=serializers.CharField(allow_blank=True), required=False, help_text=_help(declared)
        )
    if options.secret:
        # Write-only; null, like "", removes the stored secret.
        return serializers.CharField(
            required=False,
            allow_blank=True,
            allow_null=True,
            trim_whitespace=False,
            write_only=True,
            help_text=_help(declared),
        )
    return serializers.CharField(
        max_length=options.max_length, required=False, allow_blank=True, help_text=_help(declared)
    )


def _output_field(declared: Declared) -> serializers.Field:
    if declared.kind is int:
        return serializers.IntegerField(required=False, allow_null=True, help_text=_help(declared))
    if declared.kind is dict:
        return serializers.DictField(child=serializers.CharField(), required=False, help_text=_help(declared))
    return serializers.CharField(required=False, help_text=_help(declared))


class FileSourceInputSerializer(serializers.Serializer):
    """Every source's declared settings (automations/sources/), by shape and type; which of them a
    type takes, and its rules, are its source's."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"type": _type_field(), **{name: _input_field(d) for name, d in all_settings().items()}}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [f"Unknown field; file_source accepts: {', '.join(self.fields)}."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class AutomationInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="Descriptive name for the automation.")
    supplier_code = serializers.CharField(max_length=100, required=False, allow_blank=True)
    schedule = serializers.CharField(
        max_length=100, help_text="Cron expression (e.g. 0 2 * * * for daily at 2 AM)."
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        help_text="IANA time zone of the schedule (default: the server's, UTC).",
    )
    file_source = FileSourceInputSerializer(
        help_text=f"Source configuration. Supported types: {', '.join(source_types())}."
    )
    mapping = MappingField(required=False, help_text="Column mapping: file column → product field.")
    on_invalid_value = serializers.ChoiceField(
        choices=OnInvalidValue.choices,
        required=False,
        help_text="For the jobs the automation creates, as in POST /imports/jobs (default skip_row).",
    )
    is_active = serializers.BooleanField(
        required=False, help_text="Enable the schedule immediately (default: true)."
    )


class RunNowInputSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Import the file even if it is identical to the last completed run's.",
    )


class SourceTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    size = serializers.IntegerField(allow_null=True, help_text="bytes, when the server says")
    modified_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class AutomationRunSerializer(serializers.ModelSerializer):
    job_id = serializers.UUIDField(read_only=True, allow_null=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = AutomationRun
        fields = [
            "id",
            "status",
            "job_id",
            "started_at",
            "finished_at",
            "error",
            "trigger",
            "bytes",
            "checksum",
        ]
        read_only_fields = fields

    def get_error(self, run: AutomationRun) -> str | None:
        return run.error or None


class FileSourceSerializer(serializers.Serializer):
    """What the API shows of a file_source: never a secret, only whether each one is set.

    The fields describe the schema (every source's settings); those of the automation's type appear.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        settings = all_settings()
        shown = {name: _output_field(d) for name, d in settings.items() if not d.options.secret}
        secrets = {
            f"{name}_set": serializers.BooleanField(
                required=False, help_text=f"Whether a {name} is stored (it is never shown)."
            )
            for name, d in settings.items()
            if d.options.secret
        }
        return {"type": _type_field(), **shown, **secrets}

    def to_representation(self, automation: Automation) -> dict[str, Any]:
        body: dict[str, Any] = {"type": automation.source_type}
        try:
            source = automation.source()
        except SourceConfigError:
            return body
        for declared in source.settings_class.declared():
            value = getattr(source.settings, declared.name)
            if declared.options.secret:
                body[f"{declared.name}_set"] = bool(value)
            else:
                body[declared.name] = value
        return body


class AutomationSerializer(serializers.ModelSerializer):
    file_source = FileSourceSerializer(source="*", read_only=True)
    schedule_description = serializers.SerializerMethodField()
    next_runs = serializers.SerializerMethodField()
    last_run_status = serializers.ChoiceField(
        choices=RunStatus.choices, read_only=True, allow_null=True, default=None
    )
    mapping = MappingField(read_only=True)
    last_run_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Automation
        fields = [
            "id",
            "name",
            "schedule",
            "is_active",
            "created_at",
            "supplier_code",
            "timezone",
            "schedule_description",
            "next_runs",
            "file_source",
            "mapping",
            "on_invalid_value",
            "last_run_status",
            "last_run_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_schedule_description(self, automation: Automation) -> str:
        return automation_schedule_description(automation=automation)

    def get_next_runs(self, automation: Automation) -> list[str]:
        field = serializers.DateTimeField()
        return [field.to_representation(moment) for moment in automation_next_runs(automation=automation)]
