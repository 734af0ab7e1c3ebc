"""The bulk upsert of products by EAN, counting what it created, updated and left unchanged.

Rows come from a queryset of ``values(ean, *PRODUCT_FIELDS)`` (the import's staged rows), so the
catalog does not depend on how imports stage them. Semantics (CONTRACT §3): a new EAN creates a
product; a known EAN takes only the fields present and non-empty in the row (``None`` or ``""``
means absent), attributes are merged key by key; a row that would change nothing is unchanged.

PostgreSQL gets one set-based statement per chunk; other databases (the embedded SQLite) a
simpler path with the same semantics: one read and two bulk writes per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from .models import Product

# What a staged row carries besides its EAN, in display order; supplier_code comes from the job.
PRODUCT_FIELDS = (
    "name",
    "price",
    "brand",
    "category",
    "description",
    "stock",
    "image_url",
    "sku",
    "attributes",
)
# NULL means "absent" for these; for text fields "" means absent too.
VALUE_FIELDS = ("price", "stock")
TEXT_FIELDS = tuple(f for f in PRODUCT_FIELDS if f not in (*VALUE_FIELDS, "attributes"))
WRITTEN_FIELDS = (*PRODUCT_FIELDS, "supplier_code")


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


class ProductWriter(Protocol):
    def upsert(self, rows: QuerySet, *, supplier_code: str, mostly_unchanged: bool = False) -> UpsertCounts:
        """Apply ``rows`` to the catalog.

        ``mostly_unchanged`` only says which way is faster (most rows expected to change nothing,
        as in a re-import); the outcome is the same either way.
        """
        ...

    def classify(self, rows: QuerySet, *, supplier_code: str) -> UpsertCounts:
        """What ``upsert`` would do with ``rows`` now, writing nothing (dry runs)."""
        ...


def product_writer() -> ProductWriter:
    """The writer for the current database."""
    if connection.vendor == "postgresql":
        return PostgresProductWriter()
    return PythonProductWriter()


def changed_fields(existing: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The fields ``incoming`` would change on ``existing``, with their new values."""
    changes: dict[str, Any] = {}
    for field in (*TEXT_FIELDS, "supplier_code"):
        value = incoming.get(field)
        if value and value != existing[field]:
            changes[field] = value
    for field in VALUE_FIELDS:
        value = incoming.get(field)
        if value is not None and value != existing[field]:
            changes[field] = value
    if incoming.get("attributes"):
        merged = {**existing["attributes"], **incoming["attributes"]}
        if merged != existing["attributes"]:
            changes["attributes"] = merged
    return changes


class PythonProductWriter:
    """Portable path: fetch the chunk's existing products, compare in Python, bulk write."""

    def _plan(self, rows: QuerySet, supplier_code: str):
        incoming = [{**row, "supplier_code": supplier_code} for row in rows.values("ean", *PRODUCT_FIELDS)]
        existing = {p.ean: p for p in Product.objects.filter(ean__in=[r["ean"] for r in incoming])}
        to_create, to_update = [], []
        for row in incoming:
            product = existing.get(row["ean"])
            if product is None:
                to_create.append(row)
                continue
            changes = changed_fields({f: getattr(product, f) for f in WRITTEN_FIELDS}, row)
            if changes:
                for field, value in changes.items():
                    setattr(product, field, value)
                to_update.append(product)
        return incoming, to_create, to_update

    def classify(self, rows: QuerySet, *, supplier_code: str) -> UpsertCounts:
        incoming, to_create, to_update = self._plan(rows, supplier_code)
        return UpsertCounts(len(to_create), len(to_update), len(incoming) - len(to_create) - len(to_update))

    def upsert(self, rows: QuerySet, *, supplier_code: str, mostly_unchanged: bool = False) -> UpsertCounts:
        incoming, to_create, to_update = self._plan(rows, supplier_code)
        Product.objects.bulk_create(
            [
                Product(
                    ean=row["ean"],
                    **{f: row[f] or "" for f in (*TEXT_FIELDS, "supplier_code")},
                    **{f: row[f] for f in VALUE_FIELDS},
                    attributes=row["attributes"] or {},
                )
                for row in to_create
            ]
        )
        if to_update:
            now = timezone.now()
            for product in to_update:
                product.updated_at = now
            # Unchanged fields still hold the product's own values, so writing them is harmless.
            Product.objects.bulk_update(to_update, fields=[*WRITTEN_FIELDS, "updated_at"])
        return UpsertCounts(len(to_create), len(to_update), len(incoming) - len(to_create) - len(to_update))


class PostgresProductWriter:
    """One ``INSERT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM`` per chunk."""

    def _merged(self, new: str) -> tuple[str, str]:
        """The row of values after the merge, and the existing row, as SQL, for comparison."""
        merged, current = [], []
        for field in (*TEXT_FIELDS, "supplier_code"):
            merged.append(f"COALESCE(NULLIF({new}.{field}, ''), p.{field})")
            current.append(f"p.{field}")
        for field in VALUE_FIELDS:
            merged.append(f"COALESCE({new}.{field}, p.{field})")
            current.append(f"p.{field}")
        merged.append(f"p.attributes || COALESCE({new}.attributes, '{{}}'::jsonb)")
        current.append("p.attributes")
        return ", ".join(merged), ", ".join(current)

    def _source(self, rows: QuerySet, supplier_code: str) -> tuple[str, list[Any]]:
        sql, params = rows.values("ean", *PRODUCT_FIELDS).query.sql_with_params()
        # supplier_code is the job's, the same for every row.
        return f"SELECT src.*, %s::varchar AS supplier_code FROM ({sql}) AS src", [supplier_code, *params]

    def classify(self, rows: QuerySet, *, supplier_code: str) -> UpsertCounts:
        source, params = self._source(rows, supplier_code)
        merged, current = self._merged("s")
        sql = f"""
            SELECT count(*) FILTER (WHERE p.id IS NULL),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND ({merged}) IS DISTINCT FROM ({current})),
                   count(*) FILTER (WHERE p.id IS NOT NULL AND ({merged}) IS NOT DISTINCT FROM ({current}))
            FROM ({source}) AS s LEFT JOIN catalog_product AS p ON p.ean = s.ean
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            created, updated, unchanged = cursor.fetchone()
        return UpsertCounts(created, updated, unchanged)

    def upsert(self, rows: QuerySet, *, supplier_code: str, mostly_unchanged: bool = False) -> UpsertCounts:
        source, params = self._source(rows, supplier_code)
        merged, current = self._merged("EXCLUDED")
        candidates = "s"
        if mostly_unchanged:
            # ON CONFLICT locks, and so writes, every known row, even one its WHERE then skips:
            # rows that would change nothing are left out first, by a read-only comparison (a
            # re-import's processing takes a third less time). It costs an extra index lookup
            # per new row, hence only when most rows are expected to be unchanged.
            merged_s, current_s = self._merged("s")
            candidates = f"""(
                SELECT s.* FROM s LEFT JOIN catalog_product AS p ON p.ean = s.ean
                WHERE p.id IS NULL OR ({merged_s}) IS DISTINCT FROM ({current_s})
            )"""
        columns = ", ".join(WRITTEN_FIELDS)
        # One expression per WRITTEN_FIELDS column, in that order: absent text is "", absent
        # attributes {}, absent price or stock NULL.
        inserted = ", ".join(
            f"s.{f}"
            if f in VALUE_FIELDS or f == "supplier_code"
            else "COALESCE(s.attributes, '{}'::jsonb)"
            if f == "attributes"
            else f"COALESCE(s.{f}, '')"
            for f in WRITTEN_FIELDS
        )
        assignments = ", ".join(
            [f"{f} = COALESCE(NULLIF(EXCLUDED.{f}, ''), p.{f})" for f in (*TEXT_FIELDS, "supplier_code")]
            + [f"{f} = COALESCE(EXCLUDED.{f}, p.{f})" for f in VALUE_FIELDS]
            + ["attributes = p.attributes || EXCLUDED.attributes", "updated_at = EXCLUDED.updated_at"]
        )
        # Rows go in EAN order so two jobs writing overlapping EANs lock them in the same order
        # and cannot deadlock.
        sql = f"""
            WITH s AS ({source}),
            written AS (
                INSERT INTO catalog_product AS p (ean, {columns}, created_at, updated_at)
                SELECT s.ean, {inserted}, now(), now() FROM {candidates} AS s ORDER BY s.ean
                ON CONFLICT (ean) DO UPDATE SET {assignments}
                WHERE ({merged}) IS DISTINCT FROM ({current})
                RETURNING (xmax = 0) AS created
            )
            SELECT (SELECT count(*) FROM s),
                   count(*) FILTER (WHERE created),
                   count(*) FILTER (WHERE NOT created)
            FROM written
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            total, created, updated = cursor.fetchone()
        return UpsertCounts(created, updated, total - created - updated)
