"""What an import will change (a dry run at ``ready``) or changed (afterwards), row by row.

Computed by pages from the stored file, which is read and validated again batch by batch until
the page is full, so memory stays that of one batch whatever the file's size; the time grows
with how deep in the file the page is. The batches before the page are skipped by their counts:
with no action or ``failed`` they cost their reading and validation and one query of the logs
(a page 100,000 rows into a million-row job: 0.8 s); the other actions also look each batch's
rows up in the catalog and the job's change records (1.1 s there). For a dry run
each row is compared with the catalog as it is now; for a job that wrote, the updates come from
its ``ProductChange`` records (before and after, as they were), the creations from
``Product.created_by_job``, and the failures from its logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

import polars as pl

from catalog.models import Product, ProductChange
from catalog.upsert import (
    RECORDED_FIELDS,
    WRITTEN_FIELDS,
    changed_fields,
    eans_created_by,
    lookups_by_ean_index,
    python_rows,
)
from pixee.api import page_meta
from pixee.errors import Conflict

from .choices import ImportStatus, LogLevel
from .columnar import BatchValidator
from .formats import reader_for
from .models import ImportJob, ImportLog
from .runner import job_mapping_plan
from .selectors import stored_file_unavailable

ACTIONS = ("created", "updated", "unchanged", "failed")
# Statuses whose changes are known: a dry run awaiting confirmation, or a job that wrote.
_KNOWN = (ImportStatus.READY, ImportStatus.COMPLETED, ImportStatus.CANCELLED)
_SHOWN_FIELDS = tuple(f for f in RECORDED_FIELDS if f != "updated_at")
_BATCH_ROWS = 5_000  # small enough that a first page answers quickly


def import_job_changes(*, job: ImportJob, action: str | None, skip: int, limit: int) -> dict[str, Any]:
    """``{"items": [...], "meta": {...}}``: one page of the job's rows with what each does."""
    if job.status not in _KNOWN:
        raise Conflict(
            f"The job is {job.status}: what it changes is known once a dry run is ready or the import ran."
        )
    if unavailable := stored_file_unavailable(job):
        raise Conflict(f"{unavailable}: its changes can no longer be listed.")
    total = _total(job, action)
    # A job that wrote lists as many rows under each action as its counts say (a cancelled one
    # fewer failed rows): a page past them is empty, read no further. A dry run's counts are
    # the catalog's as the analysis found it, which may have changed since: its rows are read.
    past_the_end = skip >= total and job.status != ImportStatus.READY
    items = [] if past_the_end else list(islice(_listed(job, action, skip), limit))
    return {"items": items, "meta": page_meta(total=total, skip=skip, limit=limit)}


def _listed(job: ImportJob, action: str | None, skip: int) -> Iterator[dict[str, Any]]:
    """The job's rows under ``action`` (None: all), in file order, after the first ``skip``."""
    for batch in _batches(job):
        # A page deep in the file skips whole batches by their counts: what their rows do is
        # worked out only where it decides the count (an action other than failed) or is shown.
        matching = batch.count(action)
        if skip >= matching:
            skip -= matching
            continue
        for item in batch.items():
            if action is None or item["action"] == action:
                if skip:
                    skip -= 1
                    continue
                yield item


def _total(job: ImportJob, action: str | None) -> int:
    counts = {
        "created": job.products_created,
        "updated": job.products_updated,
        "unchanged": job.products_unchanged,
        "failed": job.failed_rows,
    }
    return counts[action] if action else sum(counts.values())


class _BatchChanges:
    """One batch of the file's rows: which are listed, in file order, and what each does."""

    def __init__(
        self, job: ImportJob, numbers: list[int], failed: dict[int, str | None], valid: pl.DataFrame
    ):
        self.job, self.failed, self.valid = job, failed, valid
        written = set(valid["row_number"].to_list())
        if job.status == ImportStatus.CANCELLED:
            written = {number for number in written if number <= job.checkpoint_row}
        self.numbers = [number for number in numbers if number in failed or number in written]
        self._actions: dict[int, str] | None = None
        self._outcomes: dict[int, dict[str, Any]] | None = None

    def count(self, action: str | None) -> int:
        """How many of the batch's rows are listed under ``action`` (None: all of them)."""
        if action is None:
            return len(self.numbers)
        if action == "failed":  # the logs alone tell
            return sum(number in self.failed for number in self.numbers)
        return sum(self._action(number) == action for number in self.numbers)

    def items(self) -> Iterator[dict[str, Any]]:
        for number in self.numbers:
            if number in self.failed:
                yield {"row_number": number, "ean": self.failed[number], "action": "failed", "fields": {}}
            else:
                yield self._items()[number]

    def _action(self, number: int) -> str:
        if number in self.failed:
            return "failed"
        if self.job.status == ImportStatus.READY:  # known only by comparing with the catalog
            return self._items()[number]["action"]
        return self._written_actions()[number]

    def _items(self) -> dict[int, dict[str, Any]]:
        """Each valid row's item by row number."""
        if self._outcomes is None:
            job = self.job
            if job.status == ImportStatus.READY:
                self._outcomes = _planned(job, self.valid)
            else:
                self._outcomes = _written(job, self.valid, self._written_actions())
        return self._outcomes

    def _written_actions(self) -> dict[int, str]:
        if self._actions is None:
            self._actions = _written_actions(self.job, self.valid)
        return self._actions


def _batches(job: ImportJob) -> Iterator[_BatchChanges]:
    with job.file.open("rb") as fileobj:
        reader = reader_for(job.file_type)(fileobj, size=job.file_size or None)
        validator = BatchValidator(job_mapping_plan(job, reader.columns()).mapper)
        for batch in reader.batches(_BATCH_ROWS):
            checked = validator.check(batch)
            failed = _failed(job, batch.numbers[0], batch.numbers[-1])
            valid = checked.valid.filter(
                ~pl.col("row_number").is_in(pl.Series(list(failed), dtype=pl.Int64).implode())
            )
            yield _BatchChanges(job, batch.numbers, failed, valid)
            if job.status == ImportStatus.CANCELLED and batch.numbers[-1] >= job.checkpoint_row:
                return  # the rest of the file was never written


def _failed(job: ImportJob, first: int, last: int) -> dict[int, str | None]:
    """Row number → its EAN as the file wrote it (when the EAN was not the problem) for failed rows."""
    logs = ImportLog.objects.filter(
        job_id=job.pk, level=LogLevel.ERROR, row_number__gte=first, row_number__lte=last
    ).values_list("row_number", "field", "value")
    failed: dict[int, str | None] = {}
    for number, field, value in logs:
        assert number is not None  # row errors only, by the filter above
        failed.setdefault(number, None)
        if field == "ean" and value.isdigit() and len(value) == 13:
            failed[number] = value  # a repeated EAN: the value is the EAN itself
    return failed


def _planned(job: ImportJob, valid: pl.DataFrame) -> dict[int, dict[str, Any]]:
    """What confirming would do with each valid row, against the catalog as it is now."""
    rows = python_rows(valid)
    with lookups_by_ean_index():
        among = Product.objects.filter(ean__in=[row["ean"] for row in rows]).order_by()
        existing = {product.ean: product for product in among}
    outcomes = {}
    for row in rows:
        incoming = {**row, "supplier_code": job.supplier_code}
        product = existing.get(row["ean"])
        if product is None:
            fields = {f: {"before": None, "after": _shown(f, v)} for f, v in _created(incoming).items()}
            action = "created"
        else:
            current = {f: getattr(product, f) for f in WRITTEN_FIELDS}
            changes = changed_fields(current, incoming)
            fields = {f: {"before": _shown(f, current[f]), "after": _shown(f, v)} for f, v in changes.items()}
            action = "updated" if changes else "unchanged"
        outcomes[row["row_number"]] = _item(row, action, fields)
    return outcomes


def _written_actions(job: ImportJob, valid: pl.DataFrame) -> dict[int, str]:
    """What the job did with each valid row, by row number: updated where it recorded a change,
    created where the row's product is one it created, else unchanged."""
    if valid.is_empty():
        return {}
    numbers = valid["row_number"]
    updated = set(
        ProductChange.objects.filter(
            job_id=job.pk, row_number__gte=numbers.min(), row_number__lte=numbers.max()
        ).values_list("row_number", flat=True)
    )
    eans = valid["ean"].to_list()
    created = eans_created_by(job.pk, eans)
    return {
        number: "updated" if number in updated else "created" if ean in created else "unchanged"
        for number, ean in zip(numbers.to_list(), eans, strict=True)
    }


def _written(job: ImportJob, valid: pl.DataFrame, actions: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Each valid row's item, from its action (``_written_actions``) and the job's change records."""
    updated = [number for number, action in actions.items() if action == "updated"]
    changes = {}
    if updated:  # the records of the batch's updates, by their range of rows
        span = {"row_number__gte": min(updated), "row_number__lte": max(updated)}
        changes = {
            change.row_number: change for change in ProductChange.objects.filter(job_id=job.pk, **span)
        }
    outcomes = {}
    for row in python_rows(valid):
        number = row["row_number"]
        if actions[number] == "updated":
            change = changes[number]
            fields = {
                f: {"before": _shown(f, change.before[f]), "after": _shown(f, change.after[f])}
                for f in _SHOWN_FIELDS
                if _shown(f, change.before[f]) != _shown(f, change.after[f])
            }
            outcomes[number] = _item(row, "updated", fields)
        elif actions[number] == "created":
            created_fields = _created({**row, "supplier_code": job.supplier_code})
            fields = {f: {"before": None, "after": _shown(f, v)} for f, v in created_fields.items()}
            outcomes[number] = _item(row, "created", fields)
        else:
            outcomes[number] = _item(row, "unchanged", {})
    return outcomes


def _created(row: dict[str, Any]) -> dict[str, Any]:
    return {f: row[f] for f in WRITTEN_FIELDS if row.get(f) not in (None, "", {})}


def _item(row: dict[str, Any], action: str, fields: dict) -> dict[str, Any]:
    return {"row_number": row["row_number"], "ean": row["ean"], "action": action, "fields": fields}


def _shown(field: str, value: Any) -> Any:
    """A field's value as the API shows it: prices as text with two decimals, as products do."""
    if field == "price" and value is not None:
        return f"{Decimal(str(value)):.2f}"
    return value
