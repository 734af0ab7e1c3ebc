"""The API fuzzed from its own OpenAPI schema: no 5xx, no response that breaks the schema.

Driven by hand (hypothesis over each operation's strategy) rather than schemathesis' pytest
plugin, which does not support pytest 9 yet. Every operation is called, bodies included, and most
cases are steered past the first refusal so the success paths are fuzzed too:

- path ids are, three times in four, those of objects that exist (a job with logs and a stored
  file, or in the status its action needs; an automation with a run; a webhook with a delivery;
  all the caller's; a product);
- besides the bodies generated from the schema, create and update operations get bodies valid
  for the business rules the schema cannot express (a cron expression, a time zone, a source, a
  real sample file), their other fields still fuzzed.
"""

from pathlib import Path

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.adapter import formdata
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.transport.serialization import Binary

from imports import services
from imports.models import ImportJob
from pixee.wsgi import application
from tests.factories import ean13
from tests.imports.helpers import run_import
from webhooks.choices import EventType

from .conftest import make_owned

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_broker")]

EXAMPLES_PER_OPERATION = 100
# A request can satisfy the schema and still break a business rule the schema cannot express (an
# upload whose extension is not .csv/.xlsx/.json/.xml, an EAN that does not exist): 400 and 404
# are the right answers there, so "schema-valid requests must be accepted" is not checked.
EXCLUDED_CHECKS = [positive_data_acceptance]


def _negative_only_in(case, locations) -> bool:
    """Whether ``case`` was generated invalid in ``locations`` and nowhere else."""
    if case.meta is None:
        return False
    negative = {location for location, info in case.meta.components.items() if info.mode.is_negative}
    return bool(negative) and negative <= locations


FILES = Path(__file__).resolve().parent.parent / "files"
SAMPLES = [
    (FILES / name).read_bytes()
    for name in ("excel_semicolon_cp1252.csv", "catalog.json", "catalog.xml", "catalog_fr.xlsx", "xxe.xml")
]

_source = st.sampled_from(
    [
        {"type": "http", "url": "https://93.184.216.34/feed.csv"},
        {"type": "http", "url": "https://feeds.example.invalid/x.json", "headers": {"X-Key": "k"}},
        {"type": "sftp", "host": "sftp.example.com", "username": "u", "path": "/out/p.csv", "password": "p"},
        {"type": "ftps", "host": "ftp.example.com", "path": "/p.xml"},
    ]
)
_automation_fields = {
    "name": st.text(min_size=1, max_size=200),
    "schedule": st.sampled_from(["0 2 * * *", "*/15 * * * 1-5", "@daily", "30 4 1 */2 *"]),
    "file_source": _source,
}
_automation_options = {
    "timezone": st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
    "supplier_code": st.text(max_size=100),
    "mapping": st.dictionaries(
        st.text(max_size=20), st.sampled_from(["ean", "name", "price", ""]), max_size=3
    ),
    "is_active": st.booleans(),
}
# Bodies the schema cannot make valid by itself (a cron expression, a time zone, a source, a real
# sample file): per operation, a strategy of bodies valid there, their other fields still fuzzed.
VALID_BODIES = {
    ("POST", "/api/v1/imports/jobs"): st.fixed_dictionaries(
        {"file": (st.sampled_from(SAMPLES) | st.binary(max_size=256)).map(Binary)},
        optional={
            "supplier_code": st.text(max_size=100),
            "dry_run": st.booleans(),
            "max_errors": st.none() | st.integers(0, 10**9),
            "mapping": st.sampled_from(['{"EAN": "ean"}', '{"Titre": "name", "x": ""}', "{}"]),
            "webhook_url": st.sampled_from(["https://93.184.216.34/hook", "https://h.example.invalid/"]),
        },
    ),
    ("POST", "/api/v1/imports/automations"): st.fixed_dictionaries(
        _automation_fields, optional=_automation_options
    ),
    ("PATCH", "/api/v1/imports/automations/{automation_id}"): st.fixed_dictionaries(
        {}, optional=_automation_fields | _automation_options
    ),
    ("POST", "/api/v1/webhooks"): st.fixed_dictionaries(
        {
            "url": st.sampled_from(["https://93.184.216.34/hook", "https://hooks.example.invalid/p"]),
            "events": st.lists(st.sampled_from(EventType.values), min_size=1, max_size=3),
        },
        optional={"is_active": st.booleans()},
    ),
}


JOB_STATES = {"pause": "pending", "cancel": "pending", "resume": "paused", "confirm": "ready"}


def job_in(state: str, user) -> ImportJob:
    if state == "ready":
        return run_import(f"ean,name\n{ean13(2)},B\n", user=user, dry_run=True)
    job = services.import_job_create(
        user=user, file=SimpleUploadedFile("c.csv", f"ean,name\n{ean13(3)},C\n".encode()), enqueue=False
    )
    return services.import_job_pause(job=job) if state == "paused" else job


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    return [result.ok() for result in schema.get_all_operations()]


def _extension(data: bytes) -> str:
    """Upload names: schemathesis names a file part after the format its bytes start with."""
    start = data.lstrip()[:1]
    return "xlsx" if data.startswith(b"PK") else {b"[": "json", b"{": "json", b"<": "xml"}.get(start, "csv")


def test_every_operation_conforms_to_the_schema(api, monkeypatch):
    from django.conf import settings as django_settings

    monkeypatch.setattr(formdata, "file_extension", _extension)
    # Each example makes the caller's automation anew: far more than one user may keep.
    monkeypatch.setattr(django_settings, "PIXEE_AUTOMATIONS_PER_USER", 10**6)
    failures = []
    checked = operations()
    methods = {o.method.upper() for o in checked}
    assert len(checked) >= 27 and {"GET", "POST", "PATCH", "DELETE"} <= methods, [
        f"{o.method} {o.path}" for o in checked
    ]
    assert {"/api/v1/imports/automations", "/api/v1/webhooks"} <= {o.path for o in checked}
    for operation in checked:
        # Fresh objects for each operation: a DELETE must not starve the next one.
        ids = make_owned(api.user).ids() | {"ean": ean13(1)}
        action = operation.path.rsplit("/", 1)[-1]
        if action in JOB_STATES:  # a job in a status where the action is allowed
            ids["job_id"] = str(job_in(JOB_STATES[action], api.user).pk)
        cases = operation.as_strategy()
        valid = VALID_BODIES.get((operation.method.upper(), operation.path))
        if valid is not None:
            # An explicit body: schemathesis then checks the answer, not whether the body was valid.
            media_type = (
                "multipart/form-data" if operation.path == "/api/v1/imports/jobs" else "application/json"
            )
            cases = cases | valid.flatmap(
                lambda body, o=operation, m=media_type: o.as_strategy(body=body, media_type=m)
            )

        @given(case=cases, existing=st.sampled_from([True, True, True, False]))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case, existing):
            replaced = {ParameterLocation.HEADER}  # the caller's credentials, always
            if existing and case.path_parameters:
                case.path_parameters = {name: ids.get(name, v) for name, v in case.path_parameters.items()}
                replaced.add(ParameterLocation.PATH)
            excluded = EXCLUDED_CHECKS
            if _negative_only_in(case, replaced):
                # Our ids and credentials replaced the parts generated invalid: the request is
                # valid now, and accepting it is right.
                excluded = [*EXCLUDED_CHECKS, negative_data_rejection]
            case.call_and_validate(
                headers={"Authorization": api._credentials["HTTP_AUTHORIZATION"]},
                excluded_checks=excluded,
            )

        try:
            check()
        except Exception as exc:  # collect them all, report every operation that broke
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
