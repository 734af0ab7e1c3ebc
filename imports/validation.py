"""Row validation, pure: a raw record in, a normalised product row or field errors out.

Nothing here touches the database; the job runner calls it (through columnar.py) for each row it checks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from catalog.ean import EanError, normalize_ean
from catalog.vocabulary import MAX_LENGTHS, TEXT_FIELDS, URL_FIELDS
from pixee.text import storable, unstorable

from .formats import RawRow
from .mapping import IGNORE, ColumnMapper
from .values import ValueProblem, is_http_url, parse_price, parse_stock

LOGGED_VALUE_CHARS = 500


@dataclass
class FieldIssue:
    field: str
    message: str
    value: str = ""


@dataclass
class RowResult:
    number: int
    staged: dict[str, Any] | None = None
    # The row's values as read, valid or not: an invalid field is None (the preview shows them).
    parsed: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldIssue] = field(default_factory=list)
    warnings: list[FieldIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def shown(value: Any) -> str:
    """A cell as it appears in logs and reports (bounded and storable, whatever the file holds)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= LOGGED_VALUE_CHARS else text[:LOGGED_VALUE_CHARS] + "…"
    return storable(text)


def _unstorable_in(value: Any) -> str | None:
    """``unstorable`` for a nested value (JSON and XML give dicts and lists), keys included."""
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, dict):
        items: Any = (x for pair in value.items() for x in pair)
    elif isinstance(value, list):
        items = value
    else:
        return None
    return next((found for item in items if (found := _unstorable_in(item))), None)


def json_value(value: Any) -> Any:
    """``value`` as JSON stores it. JSON and XLSX files give Decimals (exact numbers), which the
    JSON encoders refuse: they become ints, floats when that is exact, else text; recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # jsonb has no NaN or Infinity
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if value.as_tuple().exponent >= 0:  # type: ignore[operator]
            # int() of 1E+999999 would take minutes: past 100 digits, the number stays text.
            return int(value) if value.adjusted() < 100 else str(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_value(item) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(json_value(value), ensure_ascii=False)
    return str(value)


# In the order their errors are reported: the URL fields, whose form is checked too, last.
CHECKED_TEXT_FIELDS = (*(f for f in TEXT_FIELDS if f not in URL_FIELDS), *URL_FIELDS)


class RowValidator:
    """Validates rows against one job's column mapping."""

    def __init__(self, mapper: ColumnMapper):
        self.mapper = mapper
        # column -> target, filled as columns appear; a plain dict lookup per cell in the hot loop.
        self._targets: dict[str, str | None] = {}
        self._unstorable_columns: dict[str, str] = {}  # column -> what in its name cannot be stored

    def validate(self, raw: RawRow) -> RowResult:
        result = RowResult(raw.number)
        if raw.error:
            result.errors.append(FieldIssue("", storable(raw.error)))
            return result
        fields, attributes = self._sort_cells(raw, result)
        if result.errors:
            return result  # the row cannot be stored: its other checks would only add noise
        staged = self._normalise(fields, attributes, result)
        if result.errors and self.mapper.skip_invalid_values:
            _keep_row_without_bad_values(staged, result)
        result.parsed = {**staged, **{issue.field: None for issue in result.errors}}
        if result.ok:
            result.staged = staged
        return result

    def _sort_cells(self, raw: RawRow, result: RowResult) -> tuple[dict[str, Any], dict[str, Any]]:
        """The row's non-blank cells as (product field → value, attributes), without the ignored
        columns; a value or a column name no database can store is an error on ``result``."""
        fields: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        targets = self._targets
        # Dotted paths of a mapping (``meta.barcode``) read nested values (issue 14).
        values = self.mapper.expand(raw.values) if self.mapper.paths else raw.values
        # The hot loop of the analysis, once per cell: a dict lookup and an inlined blank test.
        for column, value in values.items():
            try:
                target = targets[column]
            except KeyError:
                target = targets[column] = self.mapper.field_for(column)
                if name_problem := unstorable(column):
                    self._unstorable_columns[column] = name_problem
            if target == IGNORE:
                continue
            # The cheap tests inline first: this runs for every cell of every row.
            if type(value) is str:
                problem = unstorable(value) if "\x00" in value or not value.isascii() else None
            else:
                problem = _unstorable_in(value) if isinstance(value, dict | list) else None
            if problem or column in self._unstorable_columns:
                result.errors.append(self._unstorable_issue(column, value, target, problem))
            if value is None or (isinstance(value, str) and (not value or value.isspace())):
                continue  # blank: absent
            if target is None:
                attributes[column] = value.strip() if isinstance(value, str) else json_value(value)
            else:
                fields[target] = value
        return fields, attributes

    def _unstorable_issue(
        self, column: str, value: Any, target: str | None, problem: str | None
    ) -> FieldIssue:
        if column in self._unstorable_columns:
            what = f"the name of column '{shown(column)}' holds {self._unstorable_columns[column]}"
        else:
            what = f"the value of column '{shown(column)}' holds {problem}"
        return FieldIssue(target or "attributes", f"{what}: it cannot be stored", shown(value))

    def _normalise(self, fields: dict[str, Any], attributes: dict[str, Any], result: RowResult) -> dict:
        """The row as the writers take it (``staged``); each field's problem is an issue on ``result``."""
        staged: dict[str, Any] = {"attributes": attributes or None}
        self._ean(fields.get("ean"), staged, result)
        for name in CHECKED_TEXT_FIELDS:
            value = fields.get(name)
            if value is None:
                staged[name] = None
            else:
                self._text_field(name, value, staged, result)
        self._value_field("price", fields.get("price"), staged, result)
        self._value_field("stock", fields.get("stock"), staged, result)
        return staged

    def _ean(self, value: Any, staged: dict, result: RowResult) -> None:
        try:
            ean = normalize_ean(value)
        except EanError as exc:
            result.errors.append(FieldIssue("ean", str(exc), shown(value)))
            return
        staged["ean"] = ean.value
        if ean.warning:
            result.warnings.append(FieldIssue("ean", f"{ean.warning}: {ean.value}", shown(value)))

    def _text_field(self, name: str, value: Any, staged: dict, result: RowResult) -> None:
        if value is None:
            staged[name] = None
            return
        text = _text(value)
        limit = MAX_LENGTHS[name]
        if len(text) > limit:
            result.errors.append(
                FieldIssue(name, f"{name} too long ({len(text)} characters, at most {limit})", shown(value))
            )
        elif name in URL_FIELDS and not is_http_url(text):
            result.errors.append(
                FieldIssue(name, f"{name} invalid (expected an http:// or https:// address)", shown(value))
            )
        staged[name] = text or None

    def _value_field(self, name: str, value: Any, staged: dict, result: RowResult) -> None:
        staged[name] = None
        if value is None:
            return
        try:
            if name == "price":
                staged[name], warning = parse_price(value)
                if warning:
                    result.warnings.append(FieldIssue(name, warning, shown(value)))
            else:
                staged[name] = parse_stock(value)
        except ValueProblem as exc:
            result.errors.append(FieldIssue(name, str(exc), shown(value)))


# --- on_invalid_value=skip_value (issue 14) ---------------------------------------------------

# A row is never kept without these: the key, and what the row itself could not be read as.
_NEVER_SKIPPED = ("ean", "", "attributes")


def _keep_row_without_bad_values(staged: dict, result: RowResult) -> None:
    """Turn the row's value errors into warnings and drop those values, unless one is on a field
    the row cannot do without. A missing name still stops a new product, later, by its rule."""
    if any(issue.field in _NEVER_SKIPPED for issue in result.errors):
        return
    for issue in result.errors:
        staged[issue.field] = None
        result.warnings.append(
            FieldIssue(
                issue.field, f"{issue.message}; the row was kept without its {issue.field}", issue.value
            )
        )
    result.errors.clear()
