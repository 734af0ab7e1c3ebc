"""The product fields an import sets, their kinds and limits: read once from ``Product._meta``.

An import may set every editable field of ``Product`` except:

- its primary key, which the database assigns (a product is found by its EAN);
- ``supplier_code``, which comes from the job, never from a file's column;
- the fields that are not editable: ``created_at`` and ``updated_at`` (the writes' own clock,
  auto_now) and ``created_by_job`` and ``last_job`` (which import created it, which one updated
  it last: what an undo reads).

A field added to the model is then importable everywhere at once (mapping, validation, the
columnar checks, the writers, the preview), or fails here if its kind is a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import models

from .models import Product

Kind = Literal["text", "decimal", "integer", "json"]

# The product's key: every row has one, and the writers find the product by it.
KEY = "ean"
# Written on every product an import writes, from the job.
SUPPLIER_FIELD = "supplier_code"


@dataclass(frozen=True)
class ImportedField:
    name: str
    kind: Kind
    max_length: int | None = None  # text fields: at most this many characters
    is_url: bool = False  # text fields: an http(s) address
    max_digits: int | None = None  # decimal fields
    decimal_places: int | None = None


def _kind(field: models.Field) -> Kind:
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.DecimalField):
        return "decimal"
    if isinstance(field, models.IntegerField):
        return "integer"
    if isinstance(field, models.CharField | models.TextField):
        return "text"
    raise TypeError(f"Product.{field.name} is a {type(field).__name__}: no import knows how to set one")


def _imported(field: models.Field) -> ImportedField:
    kind = _kind(field)
    if kind == "text" and field.max_length is None:
        # Validation reports a too long value by this limit, and no database column is unbounded.
        raise TypeError(f"Product.{field.name} needs a max_length: imports check text against it")
    return ImportedField(
        name=field.name,
        kind=kind,
        max_length=field.max_length,
        is_url=isinstance(field, models.URLField),
        max_digits=getattr(field, "max_digits", None),
        decimal_places=getattr(field, "decimal_places", None),
    )


# In the model's order, which is the order files, previews and messages list them in.
FIELDS: dict[str, ImportedField] = {
    field.name: _imported(field)
    for field in Product._meta.concrete_fields
    if field.editable and not field.primary_key and field.name != SUPPLIER_FIELD
}

# What a row carries besides its key.
PRODUCT_FIELDS = tuple(name for name in FIELDS if name != KEY)
# What a file's column can feed: the JSON field takes the columns that feed nothing else.
MAPPABLE_FIELDS = tuple(name for name, field in FIELDS.items() if field.kind != "json")
# Absent is "" (or NULL) for text, NULL for values: 0 is a meaningful price or stock.
TEXT_FIELDS = tuple(name for name in PRODUCT_FIELDS if FIELDS[name].kind == "text")
VALUE_FIELDS = tuple(name for name in PRODUCT_FIELDS if FIELDS[name].kind in ("decimal", "integer"))
# The one JSON field: the columns that map to no other field, merged key by key.
(ATTRIBUTES,) = (name for name in PRODUCT_FIELDS if FIELDS[name].kind == "json")
DECIMAL_FIELDS = tuple(name for name in VALUE_FIELDS if FIELDS[name].kind == "decimal")
URL_FIELDS = tuple(name for name in TEXT_FIELDS if FIELDS[name].is_url)
MAX_LENGTHS: dict[str, int] = {name: FIELDS[name].max_length or 0 for name in TEXT_FIELDS}
