"""Pass 1's valid rows kept on the worker's disk, so that pass 2 writes them without a second read.

Reading and validating a file is most of an import's work for JSON, XML and XLSX, and a good part
of it for CSV: pass 2 (processing) needs exactly the rows pass 1 (analysis) accepted, normalised
and screened by the whole-file checks. Pass 1 writes each batch's valid rows to an Arrow IPC file
(zstd: a 1M-row file takes ~7 MiB, and writing it costs about what compressing it saves in disk
writes); pass 2 reads them back in file order.

The spill is only a cache. The durable state of a job stays its stored file, its checkpoint and
its logs: a spill is used only when the job names it (``ImportJob.analysis_spill``, set in the
transaction that finishes the analysis) and it reads back whole. A missing spill (another
machine's worker, a cleaned disk, a crash before the analysis finished) or an unreadable one
makes pass 2 read the stored file again from its checkpoint, as it always could.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import polars as pl
from django.conf import settings

logger = logging.getLogger(__name__)

_COMPRESSION: Final = "zstd"
SpilledBatch = tuple[pl.DataFrame, int]  # a batch's valid rows, the number of its last row
_SEALED = "sealed"  # written last, after every batch file is on disk


def _job_folder(job_id) -> Path:
    return Path(settings.PIXEE_SPILL_DIR) / str(job_id)


def _run_folder(job_id, run: uuid.UUID) -> Path:
    return _job_folder(job_id) / run.hex


def discard(job_id) -> None:
    """Every spill of the job, on this machine."""
    shutil.rmtree(_job_folder(job_id), ignore_errors=True)


class SpillWriter:
    """The batches of one analysis run, written as they are validated.

    A failure to write (a full disk, a read-only folder) abandons the spill, never the import.
    """

    def __init__(self, job_id, run: uuid.UUID):
        self.job_id = job_id
        self.run = run
        self._folder: Path | None = _run_folder(job_id, run)
        self._count = 0
        discard(job_id)  # earlier analyses of this job: another mapping, another run
        try:
            self._folder.mkdir(parents=True)
        except OSError:
            self._abandon("cannot create its folder")

    def add(self, valid: pl.DataFrame, last_number: int) -> None:
        """One batch: its valid rows (``VALID_SCHEMA``) and the number of its last row."""
        if self._folder is None:
            return
        # The name carries the batch's order and its last row, which pass 2 checkpoints.
        path = self._folder / f"{self._count:08d}-{last_number}.arrow"
        try:
            with path.open("wb") as out:
                valid.write_ipc(out, compression=_COMPRESSION)
                out.flush()
                os.fsync(out.fileno())  # sealed below means on disk, not in the page cache
        except OSError:
            self._abandon("cannot write a batch")
            return
        self._count += 1

    def seal(self) -> uuid.UUID | None:
        """The run's key once every batch is on disk, to record on the job; None if abandoned."""
        if self._folder is None:
            return None
        try:
            (self._folder / _SEALED).write_text(str(self._count))
        except OSError:
            self._abandon("cannot seal it")
            return None
        return self.run

    def _abandon(self, why: str) -> None:
        logger.warning("import %s: spill abandoned (%s); processing reads the file again", self.job_id, why)
        self._folder = None
        discard(self.job_id)


def spilled_batches(job_id, run: uuid.UUID | None, *, after: int) -> Iterator[SpilledBatch] | None:
    """The sealed spill ``run`` of the job as (valid rows, last row number) with rows after ``after``.

    None when this machine has no such spill. The iterator raises ``SpillUnreadable`` at the
    first batch file that does not read back (whatever it yielded before is correct).
    """
    if run is None:
        return None
    folder = _run_folder(job_id, run)
    try:
        expected = int((folder / _SEALED).read_text())
        paths = sorted(p for p in folder.iterdir() if p.suffix == ".arrow")
    except (OSError, ValueError):
        return None
    if len(paths) != expected:
        return None
    return _read(paths, after)


class SpillUnreadable(Exception):
    """A batch file of a sealed spill did not read back."""


def _read(paths: list[Path], after: int) -> Iterator[SpilledBatch]:
    for path in paths:
        last_number = int(path.stem.split("-")[1])
        if last_number <= after:
            continue  # written by an earlier run of pass 2
        try:
            valid = pl.read_ipc(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise SpillUnreadable(path.name) from exc
        yield valid, last_number


def sweep(max_age_seconds: float, still_usable: Callable[[list[str]], set[str]]) -> int:
    """Delete this machine's spills older than ``max_age_seconds``, and those of the jobs that
    ``still_usable`` (given job ids, it returns those that may still use theirs) leaves out."""
    root = Path(settings.PIXEE_SPILL_DIR)
    try:
        folders = list(root.iterdir())
    except OSError:
        return 0  # no spill yet
    now = time.time()
    keep = still_usable([folder.name for folder in folders])
    deleted = 0
    for folder in folders:
        try:
            old = now - folder.stat().st_mtime > max_age_seconds
        except OSError:
            continue  # deleted meanwhile
        if old or folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
            deleted += 1
    return deleted
