from rest_framework import serializers

from imports.api.serializers import MappingField

from ..choices import RunStatus
from ..models import Automation, AutomationRun
from ..selectors import automation_next_runs, automation_schedule_description
from ..services import source_values
from ..sources import SECRET_FIELDS, source_for, source_types


class FileSourceInputSerializer(serializers.Serializer):
    """Shapes and types only; the rules of each source type live in automations/sources/."""

    type = serializers.ChoiceField(choices=[], help_text="sftp, ftp or http.")
    host = serializers.CharField(max_length=255, required=False, allow_blank=True)
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False, allow_null=True)
    username = serializers.CharField(max_length=255, required=False, allow_blank=True)
    password = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False, write_only=True
    )
    private_key = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        write_only=True,
        help_text="PEM or OpenSSH private key (RSA, Ed25519 or ECDSA); password is its passphrase if any.",
    )
    path = serializers.CharField(max_length=1024, required=False, allow_blank=True)
    url = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    host_key = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="sftp: the server's public key line or its SHA256: fingerprint.",
    )
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    tls = serializers.BooleanField(required=False, help_text="ftp: explicit FTPS (AUTH TLS).")
    authorization = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        help_text='http: the whole Authorization header value, e.g. "Bearer …".',
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The registry decides which types exist (a new source module needs no serializer change).
        self.fields["type"].choices = source_types()

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
        help_text="Source configuration. Supported types: sftp, ftp, http."
    )
    mapping = MappingField(required=False, help_text="Column mapping: file column → product field.")
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

    The fields describe the schema; which of them appear depends on the source type.
    """

    type = serializers.ChoiceField(choices=[], help_text="sftp, ftp or http.")
    host = serializers.CharField(required=False)
    port = serializers.IntegerField(required=False, allow_null=True)
    username = serializers.CharField(required=False)
    path = serializers.CharField(required=False)
    url = serializers.CharField(required=False)
    host_key = serializers.CharField(required=False)
    headers = serializers.DictField(child=serializers.CharField(), required=False)
    tls = serializers.BooleanField(required=False)
    password_set = serializers.BooleanField(required=False)
    private_key_set = serializers.BooleanField(required=False)
    authorization_set = serializers.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = source_types()

    def to_representation(self, automation: Automation) -> dict:
        shown = {
            "type": automation.source_type,
            "host": automation.host,
            "port": automation.port,
            "username": automation.username,
            "path": automation.path,
            "url": automation.url,
            "host_key": automation.host_key,
            "headers": automation.headers,
            "tls": automation.tls,
        }
        try:
            used = set(source_for(automation.source_type).fields)
        except ValueError:
            used = set(shown)
        body = {k: v for k, v in shown.items() if k == "type" or k in used}
        values = source_values(automation)
        for secret in SECRET_FIELDS:
            if secret in used:
                body[f"{secret}_set"] = bool(values[secret])
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
