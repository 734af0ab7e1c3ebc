"""The API fuzzed from its own OpenAPI schema: no 5xx, no response that breaks the schema.

Driven by hand (hypothesis over each operation's strategy) rather than schemathesis' pytest
plugin, which does not support pytest 9 yet.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from pixee.wsgi import application
from tests.factories import ean13
from tests.imports.helpers import run_import

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 20
# A request can satisfy the schema and still break a business rule the schema cannot express (an
# upload whose extension is not .csv/.xlsx/.json/.xml, an EAN that does not exist): 400 and 404
# are the right answers there, so "schema-valid requests must be accepted" is not checked.
EXCLUDED_CHECKS = [positive_data_acceptance]


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_conforms_to_the_schema(api):
    run_import(f"ean,name,price\n{ean13(1)},A,1\nbad,B,2\n", user=api.user)
    failures = []
    checked = operations()
    assert len(checked) >= 15, [f"{o.method} {o.path}" for o in checked]
    for operation in checked:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            case.call_and_validate(
                headers={"Authorization": api._credentials["HTTP_AUTHORIZATION"]},
                excluded_checks=EXCLUDED_CHECKS,
            )

        try:
            check()
        except Exception as exc:  # collect them all, report every operation that broke
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
