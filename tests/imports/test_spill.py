"""Pass 2 writes the analysis' spilled rows, and reads the file again whenever the spill won't do."""

import os
import shutil
import time
import uuid
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings

from catalog.models import Product
from imports import services, spill
from imports.models import ImportJob
from tests.factories import ProductFactory, ean13

from .helpers import run_import

pytestmark = pytest.mark.django_db

# Five-row batches: the file below spans several batch files, with a repeat and bad rows among them.
ROWS = 23


@pytest.fixture(autouse=True)
def _small_batches(settings):
    settings.PIXEE_IMPORT_CHUNK_SIZE = 5


def _catalog_file() -> str:
    rows = [f"{ean13(n)},Product {n},{n}.50" for n in range(ROWS)]
    rows[7] = "not-an-ean,Broken,1"
    rows.insert(15, f"{ean13(3)},Repeat of row 5,9.99")  # a duplicate: whole-file check
    rows.append(f"{ean13(999)},,1")  # a new product without a name: whole-file check
    return "ean,name,price\n" + "\n".join(rows) + "\n"


def _catalog() -> list[tuple]:
    return list(Product.objects.order_by("ean").values_list("ean", "name", "price", "created_by_job"))


def _spill_folder(job: ImportJob) -> Path:
    return Path(settings.PIXEE_SPILL_DIR) / str(job.pk) / job.analysis_spill.hex


def _dry_run() -> ImportJob:
    ProductFactory(ean=ean13(1), name="Known before")
    job = run_import(_catalog_file(), dry_run=True)
    assert job.status == "ready", job.error_summary
    return job


def _confirm(job: ImportJob) -> ImportJob:
    services.import_job_confirm(job=job)
    job = services.import_job_run(job_id=job.pk)
    assert job.status == "completed", job.error_summary
    return job


def _counts(job: ImportJob) -> tuple[int, ...]:
    return (job.products_created, job.products_updated, job.products_unchanged, job.failed_rows)


@pytest.fixture
def expected(settings) -> tuple[tuple, list[tuple]]:
    """What confirming the dry run does when processing reads the stored file again (no spill)."""
    settings.PIXEE_IMPORT_SPILL = False
    job = _confirm(_dry_run())
    result = _counts(job), [(ean, name, price) for ean, name, price, _ in _catalog()]
    Product.objects.all().delete()
    settings.PIXEE_IMPORT_SPILL = True
    return result


def _result() -> list[tuple]:
    return [(ean, name, price) for ean, name, price, _ in _catalog()]


def test_a_dry_run_keeps_its_valid_rows_for_its_confirmation(expected):
    job = _dry_run()
    folder = _spill_folder(job)
    assert (folder / "sealed").read_text() == str(len(list(folder.glob("*.arrow")))) == "5"
    # Processing does not read the file again: without it, the confirmation writes the same.
    job.file.storage.delete(job.file.name)
    job = _confirm(job)
    assert (_counts(job), _result()) == expected
    assert not folder.parent.exists(), "a completed job's spill is deleted"


def test_without_its_spill_the_confirmation_reads_the_file_again(expected):
    job = _dry_run()
    spill.discard(job.pk)  # another worker's machine, a cleaned disk
    assert (_counts(_confirm(job)), _result()) == expected


def test_a_spill_file_that_does_not_read_back_hands_over_to_the_file_from_that_batch(expected):
    job = _dry_run()
    third = sorted(_spill_folder(job).glob("*.arrow"))[2]
    third.write_bytes(third.read_bytes()[:40])  # torn by a crash of the machine
    assert (_counts(_confirm(job)), _result()) == expected


def test_a_spill_missing_a_batch_file_is_not_used(expected):
    job = _dry_run()
    sorted(_spill_folder(job).glob("*.arrow"))[1].unlink()
    assert (_counts(_confirm(job)), _result()) == expected


def test_a_spill_the_job_does_not_name_is_never_read(expected):
    job = _dry_run()
    # Another analysis' spill (an earlier run, or another machine's), with other values: the job
    # names its own spill only, and that one is gone.
    own = _spill_folder(job)
    stale = own.parent / uuid.uuid4().hex
    stale.mkdir()
    for path in own.iterdir():
        if path.suffix == ".arrow":
            pl.read_ipc(path).with_columns(name=pl.lit("stale")).write_ipc(stale / path.name)
        else:
            (stale / path.name).write_bytes(path.read_bytes())
    shutil.rmtree(own)
    assert (_counts(_confirm(job)), _result()) == expected


def test_a_reanalysis_replaces_the_spill_of_the_earlier_mapping():
    job = run_import("code,label,other\n" + f"{ean13(1)},One,Uno\n{ean13(2)},Two,Dos\n", dry_run=True)
    first = _spill_folder(job)
    job = services.import_job_reanalyze(job=job, mapping={"code": "ean", "other": "name"})
    job = services.import_job_run(job_id=job.pk)
    assert job.status == "ready" and not first.exists()
    _confirm(job)
    assert sorted(Product.objects.values_list("ean", "name")) == [(ean13(1), "Uno"), (ean13(2), "Dos")]


def test_a_spill_that_cannot_be_written_leaves_the_import_to_the_file(expected, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spill folder should be")
    settings.PIXEE_SPILL_DIR = blocker
    job = _dry_run()
    assert job.analysis_spill is None
    assert (_counts(_confirm(job)), _result()) == expected


def test_a_finished_run_sweeps_the_spills_no_job_can_use(settings, tmp_path):
    settings.PIXEE_SPILL_DIR = tmp_path
    waiting = _dry_run()  # ready: its confirmation will use its spill
    finished = run_import(f"ean,name\n{ean13(500)},Done\n")  # completed: nothing will
    orphan = tmp_path / str(finished.pk) / uuid.uuid4().hex
    orphan.mkdir(parents=True)
    stray = tmp_path / "not-a-job"
    stray.mkdir()
    old = _dry_run_of(f"ean,name\n{ean13(600)},Old\n")
    past = time.time() - settings.PIXEE_SPILL_MAX_AGE_HOURS * 3600 - 60
    os.utime(tmp_path / str(old.pk), (past, past))
    run_import(f"ean,name\n{ean13(700)},Another run\n")  # sweeps as it finishes
    assert sorted(p.name for p in tmp_path.iterdir()) == [str(waiting.pk)]


def _dry_run_of(content: str) -> ImportJob:
    job = run_import(content, dry_run=True)
    assert job.status == "ready"
    return job
