"""The bulk upsert of products by EAN, counting what it created, updated and left unchanged.

Rows come as a polars frame of normalised product rows (``ean`` and ``vocabulary.PRODUCT_FIELDS``: text
stripped and null when absent, price as decimal text, attributes as JSON text), so the catalog
does not depend on how imports read files. Semantics (CONTRACT §3): a new EAN creates a product;
a known EAN takes only the fields present and non-empty in the row (null or ``""`` means
absent), attributes are merged key by key; a row that would change nothing is unchanged.

PostgreSQL gets COPY: straight into the catalog when none of the rows' EANs is known yet (a
first load), else into a temporary table and one set-based statement. Other databases (the
embedded SQLite) take a simpler path with the same semantics: one read and two bulk writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pixee.bulk import copy_csv

from .models import Product, ProductChange
from .vocabulary import (
    ATTRIBUTES,
    DECIMAL_FIELDS,
    FIELDS,
    KEY,
    PRODUCT_FIELDS,
    SUPPLIER_FIELD,
    TEXT_FIELDS,
    VALUE_FIELDS,
    ImportedField,
)

WRITTEN_FIELDS = (*PRODUCT_FIELDS, SUPPLIER_FIELD)
# Written as text: "" or NULL in a row means absent.
WRITTEN_TEXT_FIELDS = (*TEXT_FIELDS, SUPPLIER_FIELD)
# The temporary table a chunk is copied into: the columns of a valid row (free-length text:
# validation has bounded it), and the job's supplier code.
_SQL_TYPES = {"text": "text", "integer": "integer", "json": "jsonb"}


def sql_type(field: ImportedField) -> str:
    """The PostgreSQL type a product field's value is copied or cast as."""
    if field.kind == "decimal":
        return f"numeric({field.max_digits}, {field.decimal_places})"
    return _SQL_TYPES[field.kind]


_IMPORT_ROWS_COLUMNS = ", ".join(
    [f'row_number integer, {KEY} varchar({FIELDS[KEY].max_length}) COLLATE "C"']
    + [f"{name} {sql_type(FIELDS[name])}" for name in PRODUCT_FIELDS]
    + [f"{SUPPLIER_FIELD} text"]
)
# What a ProductChange keeps of a product, before and after: enough to put it back exactly.
RECORDED_FIELDS = (*WRITTEN_FIELDS, "updated_at")


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


class Expected(Enum):
    """What a batch of rows probably holds, judged by the one before it.

    A file is mostly new products (a first load) or mostly known ones (a re-import): the next
    batch likely looks like the last one, and the writer takes its faster way for it. Only the
    speed depends on the guess, never the outcome.
    """

    # Asking the catalog which EANs it knows costs an index lookup per row, a fifth of what a
    # COPY costs: a batch that follows a clear guess does not ask.
    UNKNOWN = "unknown"  # nothing to judge by (a file's first batch): count the known EANs
    MIXED = "mixed"  # COPY if no EAN is known (the lookups stop at the first known), else upsert
    NEW = "new"  # COPY without asking: a known EAN rolls the COPY back, and the upsert runs
    UNCHANGED = "unchanged"  # leave out the rows that change nothing before the upsert

    @classmethod
    def after(cls, counts: UpsertCounts) -> Expected:
        """The guess for the batch that follows one with these ``counts``."""
        total = counts.created + counts.updated + counts.unchanged
        if total and counts.created == total:
            return cls.NEW
        if counts.unchanged * 2 > total:
            return cls.UNCHANGED
        return cls.MIXED

    @classmethod
    def given_known(cls, known: int, total: int) -> Expected:
        """The way for a batch of ``total`` rows of which the catalog holds ``known``."""
        if known == 0:
            return cls.NEW
        # Most rows known: most probably unchanged too (a re-import), as in the batches that follow.
        return cls.UNCHANGED if known * 2 > total else cls.MIXED


class ProductWriter(Protocol):
    def upsert(
        self, rows: pl.DataFrame, *, supplier_code: str, job_id=None, expected: Expected = Expected.UNKNOWN
    ) -> UpsertCounts:
        """Apply ``rows`` (with their ``row_number``) to the catalog, on behalf of import ``job_id``.

        Each product created records the job as its ``created_by_job``, each one updated as its
        ``last_job``, and each update a ``ProductChange``, in the same transaction.
        ``expected`` only chooses the faster way; the outcome is the same either way.
        """
        ...

    def classify(self, rows: pl.DataFrame, *, supplier_code: str) -> UpsertCounts:
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
    for field in WRITTEN_TEXT_FIELDS:
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


def python_rows(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """``rows`` as dicts of Python values: Decimal prices, dict attributes."""
    return [python_row(row) for row in rows.iter_rows(named=True)]


def python_row(row: dict[str, Any]) -> dict[str, Any]:
    """One row of ``rows`` (a dict, changed in place) as Python values."""
    for field in DECIMAL_FIELDS:
        if row[field] is not None:
            row[field] = Decimal(row[field])
    if row[ATTRIBUTES] is not None:
        row[ATTRIBUTES] = json.loads(row[ATTRIBUTES])
    return row


class PythonProductWriter:
    """Portable path: fetch the chunk's existing products, compare in Python, bulk write."""

    def _plan(self, rows: pl.DataFrame, supplier_code: str):
        incoming = [{**row, "supplier_code": supplier_code} for row in python_rows(rows)]
        existing = {p.ean: p for p in Product.objects.filter(ean__in=[r["ean"] for r in incoming])}
        to_create, to_update = [], []
        for row in incoming:
            product = existing.get(row["ean"])
            if product is None:
                to_create.append(row)
                continue
            changes = changed_fields({f: getattr(product, f) for f in WRITTEN_FIELDS}, row)
            if changes:
                to_update.append((row, product, changes))
        return incoming, to_create, to_update

    def classify(self, rows: pl.DataFrame, *, supplier_code: str) -> UpsertCounts:
        incoming, to_create, to_update = self._plan(rows, supplier_code)
        return UpsertCounts(len(to_create), len(to_update), len(incoming) - len(to_create) - len(to_update))

    def upsert(
        self, rows: pl.DataFrame, *, supplier_code: str, job_id=None, expected: Expected = Expected.UNKNOWN
    ) -> UpsertCounts:
        incoming, to_create, to_update = self._plan(rows, supplier_code)
        Product.objects.bulk_create(
            [
                Product(
                    ean=row["ean"],
                    **{f: row[f] or "" for f in WRITTEN_TEXT_FIELDS},
                    **{f: row[f] for f in VALUE_FIELDS},
                    attributes=row["attributes"] or {},
                    created_by_job=job_id,
                )
                for row in to_create
            ]
        )
        if to_update:
            now = timezone.now()
            changes, products = [], []
            for row, product, changed in to_update:
                before, previous_job = recorded(product), product.last_job
                for field, value in changed.items():
                    setattr(product, field, value)
                product.updated_at, product.last_job = now, job_id
                products.append(product)
                changes.append(
                    ProductChange(
                        job_id=job_id,
                        row_number=row.get("row_number") or 0,
                        ean=product.ean,
                        before=before,
                        after=recorded(product),
                        previous_job=previous_job,
                    )
                )
            # Unchanged fields still hold the product's own values, so writing them is harmless.
            Product.objects.bulk_update(products, fields=[*WRITTEN_FIELDS, "updated_at", "last_job"])
            if job_id is not None:
                ProductChange.objects.bulk_create(changes, batch_size=500)
        return UpsertCounts(len(to_create), len(to_update), len(incoming) - len(to_create) - len(to_update))


def recorded(product: Product) -> dict[str, Any]:
    """``RECORDED_FIELDS`` of ``product`` as JSON values, as PostgreSQL's ``to_jsonb`` gives them."""
    values: dict[str, Any] = {}
    for field in RECORDED_FIELDS:
        value = getattr(product, field)
        if isinstance(value, Decimal):
            value = float(value) if value == Decimal(repr(float(value))) else str(value)
        elif field == "updated_at":
            value = value.isoformat()
        values[field] = value
    return values


class PostgresProductWriter:
    """COPY, then (unless every row is new) one ``INSERT … ON CONFLICT DO UPDATE … WHERE … IS
    DISTINCT FROM`` from a temporary table."""

    def _merged(self, new: str) -> tuple[str, str]:
        """The row of values after the merge, and the existing row, as SQL, for comparison."""
        merged, current = [], []
        for field in WRITTEN_TEXT_FIELDS:
            merged.append(f"COALESCE(NULLIF({new}.{field}, ''), p.{field})")
            current.append(f"p.{field}")
        for field in VALUE_FIELDS:
            merged.append(f"COALESCE({new}.{field}, p.{field})")
            current.append(f"p.{field}")
        merged.append(f"p.attributes || COALESCE({new}.attributes, '{{}}'::jsonb)")
        current.append("p.attributes")
        return ", ".join(merged), ", ".join(current)

    def _load(self, cursor, rows: pl.DataFrame, supplier_code: str) -> str:
        """COPY ``rows`` into a temporary table dropped at commit; returns its name."""
        cursor.execute(f"CREATE TEMP TABLE import_rows ({_IMPORT_ROWS_COLUMNS}) ON COMMIT DROP")
        copy_csv(cursor, "import_rows", _with_supplier(rows, supplier_code))
        return "import_rows"

    def classify(self, rows: pl.DataFrame, *, supplier_code: str) -> UpsertCounts:
        merged, current = self._merged("s")
        with transaction.atomic(), connection.cursor() as cursor:
            _prefer_indexes(cursor)
            source = self._load(cursor, rows, supplier_code)
            cursor.execute(
                f"""SELECT count(*) FILTER (WHERE p.id IS NULL),
                    count(*) FILTER (WHERE p.id IS NOT NULL AND ({merged}) IS DISTINCT FROM ({current})),
                    count(*) FILTER (WHERE p.id IS NOT NULL AND ({merged}) IS NOT DISTINCT FROM ({current}))
                    FROM {source} AS s LEFT JOIN catalog_product AS p ON p.ean = s.ean"""
            )
            created, updated, unchanged = cursor.fetchone()
            cursor.execute(f"DROP TABLE {source}")
        return UpsertCounts(created, updated, unchanged)

    def upsert(
        self, rows: pl.DataFrame, *, supplier_code: str, job_id=None, expected: Expected = Expected.UNKNOWN
    ) -> UpsertCounts:
        if rows.is_empty():
            return UpsertCounts()
        # Rows go in EAN order so two jobs writing overlapping EANs lock them in the same order
        # and cannot deadlock.
        rows = rows.sort("ean")
        with transaction.atomic(), connection.cursor() as cursor:
            _prefer_indexes(cursor)
            if expected is Expected.UNKNOWN:
                expected = Expected.given_known(_known_count(cursor, rows["ean"]), rows.height)
            elif expected is Expected.MIXED and not _any_known(cursor, rows["ean"]):
                expected = Expected.NEW
            if expected is Expected.NEW:
                try:
                    with transaction.atomic():  # a savepoint: a concurrent job may create one first
                        _copy_new(cursor, rows, supplier_code, job_id)
                    return UpsertCounts(created=rows.height)
                except IntegrityError:
                    pass  # one of the EANs appeared meanwhile: the upsert below sorts it out
            return self._upsert_from(
                self._load(cursor, rows, supplier_code),
                cursor,
                job_id,
                rows=rows.height,
                mostly_unchanged=expected is Expected.UNCHANGED,
            )

    def _upsert_from(self, source: str, cursor, job_id, *, rows: int, mostly_unchanged: bool) -> UpsertCounts:
        merged, current = self._merged("EXCLUDED")
        candidates = "SELECT * FROM s"
        if mostly_unchanged:
            # ON CONFLICT locks, and so writes, every known row, even one its WHERE then skips:
            # rows that would change nothing are left out first, by a read-only comparison (a
            # re-import's processing takes a third less time). It costs an extra index lookup
            # per new row, hence only when most rows are expected to be unchanged.
            # Materialised once: the locking read and the upsert below both start from it.
            merged_s, current_s = self._merged("s")
            cursor.execute(
                f"""
                CREATE TEMP TABLE import_candidates ON COMMIT DROP AS
                WITH s AS (SELECT * FROM {source})
                SELECT s.* FROM s LEFT JOIN catalog_product AS p ON p.ean = s.ean
                WHERE p.id IS NULL OR ({merged_s}) IS DISTINCT FROM ({current_s})
                """
            )
            if cursor.rowcount == 0:  # a batch of an unchanged re-import: nothing to lock or write
                cursor.execute(f"DROP TABLE {source}, import_candidates")
                return UpsertCounts(unchanged=rows)
            candidates = "SELECT * FROM import_candidates"
        columns = ", ".join(WRITTEN_FIELDS)
        # One expression per WRITTEN_FIELDS column, in that order: absent text is "", absent
        # attributes {}, absent price or stock NULL.
        inserted = ", ".join(
            f"s.{f}"
            if f in VALUE_FIELDS or f == SUPPLIER_FIELD
            else "COALESCE(s.attributes, '{}'::jsonb)"
            if f == "attributes"
            else f"COALESCE(s.{f}, '')"
            for f in WRITTEN_FIELDS
        )
        assignments = ", ".join(
            [f"{f} = COALESCE(NULLIF(EXCLUDED.{f}, ''), p.{f})" for f in WRITTEN_TEXT_FIELDS]
            + [f"{f} = COALESCE(EXCLUDED.{f}, p.{f})" for f in VALUE_FIELDS]
            + ["attributes = p.attributes || EXCLUDED.attributes", "updated_at = EXCLUDED.updated_at"]
            + ["last_job = %(job)s"]
        )
        record = "jsonb_build_object(" + ", ".join(f"'{f}', p.{f}" for f in RECORDED_FIELDS) + ")"
        # First the products the upsert may update, locked in EAN order (two jobs writing
        # overlapping EANs then lock them in the same order and cannot deadlock) and copied as
        # they are: what the change records keep. In a separate statement, as a locking read
        # in the upsert's own WITH would run after the write and find its rows gone.
        cursor.execute(
            f"""
            CREATE TEMP TABLE import_before ON COMMIT DROP AS
            WITH s AS (SELECT * FROM {source}), candidates AS ({candidates})
            SELECT p.ean, p.last_job, {record} AS record
            FROM catalog_product AS p JOIN candidates AS c ON c.ean = p.ean
            ORDER BY p.ean FOR UPDATE OF p
            """
        )
        cursor.execute(
            f"""
            WITH s AS (SELECT * FROM {source}),
            candidates AS ({candidates}),
            written AS (
                INSERT INTO catalog_product AS p
                    (ean, {columns}, created_at, updated_at, created_by_job)
                SELECT s.ean, {inserted}, now(), now(), %(job)s
                FROM candidates AS s ORDER BY s.ean
                ON CONFLICT (ean) DO UPDATE SET {assignments}
                WHERE ({merged}) IS DISTINCT FROM ({current})
                RETURNING p.ean, (xmax = 0) AS created, {record} AS record
            ),
            changes AS (
                INSERT INTO catalog_productchange (job_id, row_number, ean, before, after, previous_job)
                SELECT %(job)s, s.row_number, w.ean, b.record, w.record, b.last_job
                FROM written AS w JOIN import_before AS b ON b.ean = w.ean JOIN s ON s.ean = w.ean
                WHERE NOT w.created AND %(job)s::uuid IS NOT NULL
            )
            SELECT (SELECT count(*) FROM s),
                   count(*) FILTER (WHERE created),
                   count(*) FILTER (WHERE NOT created)
            FROM written
            """,
            {"job": job_id},
        )
        total, created, updated = cursor.fetchone()
        cursor.execute(f"DROP TABLE {source}, import_before")
        if mostly_unchanged:
            cursor.execute("DROP TABLE import_candidates")
        return UpsertCounts(created, updated, total - created - updated)


def _with_supplier(rows: pl.DataFrame, supplier_code: str) -> pl.DataFrame:
    row_number = pl.col("row_number") if "row_number" in rows.columns else pl.lit(None, dtype=pl.Int64)
    return rows.select(
        row_number.alias("row_number"),
        KEY,
        *PRODUCT_FIELDS,
        pl.lit(supplier_code, dtype=pl.Utf8).alias(SUPPLIER_FIELD),
    )


@contextmanager
def lookups_by_ean_index() -> Iterator[None]:
    """A block in which looking products up by a list of EANs uses the EAN index.

    Right after a load PostgreSQL's planner still believes the catalog small (``_prefer_indexes``):
    one lookup of 5 000 EANs read a million products in 170 ms. SQLite needs nothing, and a
    transaction there would take the database's write lock (its transactions are IMMEDIATE).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _prefer_indexes(cursor)  # SET LOCAL: until this transaction ends
        yield


def eans_created_by(job_id, eans: list[str]) -> set[str]:
    """Which of ``eans`` name products that import ``job_id`` created."""
    if connection.vendor != "postgresql":
        return set(Product.objects.filter(ean__in=eans, created_by_job=job_id).values_list("ean", flat=True))
    # One text parameter, not one per EAN: the ORM's list of 5 000 cost more than the lookup.
    with lookups_by_ean_index(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ean FROM catalog_product WHERE {_EAN_AMONG} AND created_by_job = %s",
            [",".join(eans), job_id],
        )
        return {ean for (ean,) in cursor.fetchall()}


def _prefer_indexes(cursor) -> None:
    """Look products up by the EAN index for the rest of the transaction.

    During a load the catalog's statistics lag far behind it (autovacuum analyses it now and
    then): the planner, believing the table small, read all of it for every batch, which made
    a million-row first load quadratic. A batch is always small beside the catalog, so an index
    lookup per row is the right plan whatever the statistics say.
    """
    cursor.execute("SET LOCAL enable_seqscan = off")
    # Nor compile the plan: the costs that setting inflates crossed jit_above_cost, and compiling
    # took 300 ms per statement where running it took 3.
    cursor.execute("SET LOCAL jit = off")


def _known_count(cursor, eans: pl.Series) -> int:
    """How many of ``eans`` the catalog holds."""
    cursor.execute(f"SELECT count(*) FROM catalog_product WHERE {_EAN_AMONG}", [_joined(eans)])
    return cursor.fetchone()[0]


def _any_known(cursor, eans: pl.Series) -> bool:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM catalog_product WHERE {_EAN_AMONG})", [_joined(eans)])
    return cursor.fetchone()[0]


# One text parameter (valid EANs are digits): psycopg adapts a list of 20,000 strings in Python,
# which cost more than the query itself.
_EAN_AMONG = "ean = ANY(string_to_array(%s, ','))"


def _joined(eans: pl.Series) -> str:
    return eans.str.join(",").item()


def _copy_new(cursor, rows: pl.DataFrame, supplier_code: str, job_id) -> None:
    """COPY rows none of whose EANs is in the catalog straight into it: a first load's path.

    ``created_at`` and ``updated_at`` are left to the columns' default, the statement's time.
    """
    text = [pl.col(f).fill_null("") for f in TEXT_FIELDS]
    copy_csv(
        cursor,
        "catalog_product",
        rows.select(
            KEY,
            *text,
            *VALUE_FIELDS,
            pl.col(ATTRIBUTES).fill_null("{}"),
            pl.lit(supplier_code, dtype=pl.Utf8).alias(SUPPLIER_FIELD),
            created_by_job=pl.lit(None if job_id is None else str(job_id), dtype=pl.Utf8),
        ),
        not_null=WRITTEN_TEXT_FIELDS,
    )
