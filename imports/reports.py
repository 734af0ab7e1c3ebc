"""The error report: the rejected rows as the file had them, plus why each was rejected."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from itertools import groupby
from typing import Any

from pixee.errors import Conflict

from .choices import LogLevel
from .formats import FormatError, reader_for
from .models import ImportJob, ImportLog
from .selectors import stored_file_unavailable

REPORT_COLUMNS = ("row_number", "field", "message")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would take it as a formula."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    else:
        text = (
            json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, dict | list)
            else str(value)
        )
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def error_report_rows(*, job: ImportJob, dialect: dict[str, str] | None = None) -> Iterator[list[str]]:
    """Header, then one line per rejected row in file order (fields and messages joined by "; ").

    The header is the file's (for JSON and XML: the first record's keys). ``dialect``, when given,
    receives the source's ``delimiter`` once the file is open (a CSV's detected one, else ``,``).
    """
    errors = (
        ImportLog.objects.filter(job=job, level=LogLevel.ERROR, row_number__isnull=False)
        .order_by("row_number", "id")
        .values_list("row_number", "field", "message")
    )
    by_row = groupby(errors.iterator(chunk_size=2000), key=lambda e: e[0])
    pending = next(by_row, None)
    with job.file.open("rb") as fileobj:
        reader = reader_for(job.file_type)(fileobj, size=job.file_size or None)
        columns = reader.columns()
        if dialect is not None:
            # The CSV reader exposes the delimiter it detected: the report is fixed and
            # re-imported in the spreadsheet the supplier's file came from.
            dialect["delimiter"] = getattr(reader, "delimiter", ",")
        yield [spreadsheet_safe(c) for c in (*columns, *REPORT_COLUMNS)]
        if pending is None:
            return
        for raw in reader.rows():
            # Both the file and the logs are in row order: walk them side by side.
            if raw.number < pending[0]:
                continue
            number, entries = pending[0], list(pending[1])
            fields = "; ".join(dict.fromkeys(e[1] for e in entries if e[1]))
            messages = "; ".join(e[2] for e in entries)
            cells = [spreadsheet_safe(raw.values.get(c)) for c in columns]
            yield [*cells, str(number), spreadsheet_safe(fields), spreadsheet_safe(messages)]
            pending = next(by_row, None)
            if pending is None:
                return


class _Echo:
    def write(self, value: str) -> str:
        return value


def error_report_csv(*, job: ImportJob) -> Iterator[str]:
    """The report as CSV text in the source's delimiter, to stream; a BOM makes Excel read UTF-8."""
    # Checked now, not on first iteration, so the API can still answer 409.
    if unavailable := stored_file_unavailable(job):
        raise Conflict(f"{unavailable}: no error report.")
    dialect: dict[str, str] = {}
    rows = error_report_rows(job=job, dialect=dialect)
    try:
        # The header now, not once streaming has begun: a file that cannot be read (the job
        # failed on it) must be an answer, not a download cut short.
        header = next(rows)
    except FormatError as exc:
        raise Conflict(f"The job's file cannot be read, so there is no error report: {exc}") from None
    writer = csv.writer(_Echo(), delimiter=dialect.get("delimiter", ","))

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    return lines()
