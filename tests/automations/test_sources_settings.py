"""Sources declare their settings; the API, the checks and the stored configuration follow them."""

from dataclasses import dataclass

import pytest

from automations import services
from automations.api.serializers import AutomationSerializer, FileSourceInputSerializer
from automations.sources import (
    Download,
    FileSource,
    SourceConfigError,
    SourceSettings,
    all_settings,
    base,
    setting,
    source_from_values,
    source_types,
)
from automations.sources.ftp import FtpSettings
from automations.sources.sftp import SftpSettings
from tests.factories import AutomationFactory


@dataclass(frozen=True)
class BucketSettings(SourceSettings):
    bucket: str = setting("Bucket", required=True, max_length=63, help_text="The bucket's name.")
    key: str = setting("Key", required=True)
    region: str = setting("Region", default="eu-west-1")
    secret_key: str = setting("Secret key", secret=True)


class BucketSource(FileSource[BucketSettings]):
    """A source that exists only in this test: declared, registered, nothing else written."""

    type = "bucket"
    label = "Bucket"
    settings_class = BucketSettings

    @property
    def where(self) -> str:
        return self.settings.bucket

    def fetch(self, download: Download) -> str:
        raise NotImplementedError


@pytest.fixture
def bucket_source(monkeypatch):
    monkeypatch.setitem(base._REGISTRY, BucketSource.type, BucketSource)
    return BucketSource


def test_the_package_loads_every_source_module():
    assert source_types() == ["ftp", "ftps", "http", "sftp"]


@pytest.mark.django_db
def test_a_new_source_is_its_declaration_for_the_api_too(user, bucket_source):
    # Through the serializers and the service, not the client: the served schema (checked against
    # every response) is generated once per session, without this test's source.
    file_source = {"type": "bucket", "bucket": "acme", "key": "feed.csv", "secret_key": "s3-never-shown"}
    given = FileSourceInputSerializer(data=file_source)
    assert given.is_valid(), given.errors

    automation = AutomationFactory(created_by=user, file_source=given.validated_data)

    assert AutomationSerializer(automation).data["file_source"] == {
        "type": "bucket",
        "bucket": "acme",
        "key": "feed.csv",
        "region": "eu-west-1",
        "secret_key_set": True,
    }
    assert automation.source().settings.secret_key == "s3-never-shown"
    too_long = FileSourceInputSerializer(data={"type": "bucket", "bucket": "x" * 64})
    assert not too_long.is_valid() and set(too_long.errors) == {"bucket"}
    with pytest.raises(services.AutomationInvalid) as caught:
        AutomationFactory(created_by=user, file_source={"type": "bucket", "host": "h"})
    assert caught.value.errors["file_source"] == {
        "host": ["host does not apply to bucket sources."],
        "bucket": ["bucket is required for bucket sources."],
        "key": ["key is required for bucket sources."],
    }


def test_one_name_means_one_shape_in_every_source(bucket_source):
    @dataclass(frozen=True)
    class Clash(SourceSettings):
        port: str = setting("Port")

    class ClashSource(BucketSource):
        type = "clash"
        settings_class = Clash

    base._REGISTRY["clash"] = ClashSource
    try:
        with pytest.raises(TypeError, match="declares port unlike the other sources do"):
            all_settings()
    finally:
        del base._REGISTRY["clash"]


def test_values_are_checked_against_their_declared_types():
    source = {"type": "ftp", "host": "ftp.example.com", "path": "/p.csv"}
    with pytest.raises(SourceConfigError) as caught:
        source_from_values({**source, "port": "21", "username": 7, "path": "/p\n.csv"})
    assert caught.value.errors == {
        "port": ["port must be a whole number."],
        "username": ["username must be text."],
        "path": ["path cannot contain control characters."],
    }
    with pytest.raises(SourceConfigError) as caught:
        source_from_values({**source, "port": 70000})
    assert caught.value.errors == {"port": ["port must be between 1 and 65535."]}
    assert source_from_values({**source, "port": None}).settings.port == 21  # None: the default


def test_secrets_never_appear_in_a_repr():
    settings = SftpSettings(
        host="h", username="u", password="pa55-never-shown", private_key="KEY-never-shown"
    )
    assert "never-shown" not in repr(settings)
    assert "host='h'" in repr(settings)


def test_a_stored_configuration_reads_with_defaults_for_new_settings_and_ignores_old_ones():
    settings = FtpSettings.from_config({"host": "ftp.example.com", "path": "/p.csv", "tls": True})

    assert settings == FtpSettings(host="ftp.example.com", path="/p.csv", port=21)
    assert settings.to_config() == {
        "host": "ftp.example.com",
        "port": 21,
        "username": "",
        "password": "",
        "path": "/p.csv",
    }


def test_the_union_of_settings_tells_each_sources_help_apart():
    password = all_settings()["password"]
    assert password.options.secret
    assert password.options.help_text.startswith("ftp, ftps: The login's password. http: ")
