"""Discarding a job's staged rows: TRUNCATE when they are alone, DELETE otherwise (PostgreSQL)."""

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.models import StagedRow
from imports.staging import discard_staged
from tests.conftest import _test_database_url
from tests.factories import ean13

from .helpers import run_import

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is the PostgreSQL path"),
]


def staged_job(*numbers: int):
    """A dry run waiting at ``ready``, so its rows stay staged."""
    job = run_import("ean,name\n" + "".join(f"{ean13(n)},Product {n}\n" for n in numbers), dry_run=True)
    assert job.status == "ready"
    return job


def discard(job) -> str:
    with CaptureQueriesContext(connection) as queries:
        discard_staged(job.pk)
    return "TRUNCATE" if any("TRUNCATE" in q["sql"] for q in queries.captured_queries) else "DELETE"


def test_the_last_staged_job_is_discarded_by_truncate_and_others_rows_are_kept():
    first, second = staged_job(1, 2), staged_job(3, 4, 5)

    assert discard(first) == "DELETE"
    assert not StagedRow.objects.filter(job_id=first.pk).exists()
    assert StagedRow.objects.filter(job_id=second.pk).count() == 3

    assert discard(second) == "TRUNCATE"
    assert not StagedRow.objects.exists()


def test_a_busy_staging_table_is_not_waited_for():
    job = staged_job(1, 2)
    # Another session inside a transaction that wrote to the table (a job staging its rows).
    with psycopg.connect(_test_database_url()) as other:
        other.execute("LOCK TABLE imports_stagedrow IN ROW EXCLUSIVE MODE")
        assert discard(job) == "DELETE"
    assert not StagedRow.objects.filter(job_id=job.pk).exists()
