from django.db import models
from django.db.models.functions import Now


class EanField(models.CharField):
    """An EAN column in byte order: collation "C" on PostgreSQL (SQLite's default already is).

    Byte order lets one unique index serve equality, ON CONFLICT, prefix LIKE and ordering (a
    unique=True field would get a second, varchar_pattern_ops, index on PostgreSQL for LIKE,
    maintained at every write). SQLite has no collation named "C", hence not ``db_collation``.
    """

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


class Product(models.Model):
    """A catalog product, keyed by its EAN-13.

    Text fields are never NULL ("" means unknown) so imports can treat an empty cell as "leave as
    is"; price and stock are NULL when unknown because 0 is a meaningful value for both.
    """

    ean = EanField("EAN", max_length=13)
    name = models.CharField(max_length=500)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    brand = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=500, blank=True, default="")
    description = models.TextField(max_length=65_000, blank=True, default="")
    stock = models.PositiveIntegerField(null=True, blank=True)
    image_url = models.URLField(max_length=2000, blank=True, default="")
    sku = models.CharField("SKU", max_length=255, blank=True, default="")
    supplier_code = models.CharField(max_length=100, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    # The database's clock by default too: a first load's COPY leaves both out, which spares
    # PostgreSQL parsing two timestamps per row (15% of that COPY's time, measured).
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())
    # Which import created the product, and which one updated it last (null until one does):
    # what an undo needs to know whether the product is still as that import left it. Plain
    # UUIDs, not foreign keys: a job may be deleted (retention) long after its products, and a
    # first load checks no constraint. ``last_job`` stays null at creation because a first load
    # COPYing a second UUID per product took a fifth longer (measured); the creator is known.
    created_by_job = models.UUIDField(null=True, blank=True, editable=False)
    last_job = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["ean"]
        constraints = [models.UniqueConstraint(fields=["ean"], name="catalog_product_ean_key")]
        indexes = [models.Index(fields=["supplier_code"], name="catalog_product_supplier")]

    def __str__(self) -> str:
        return f"{self.ean} {self.name}"


class ProductChange(models.Model):
    """A product as it was before an import updated it, and as the import left it.

    Written in the same transaction as the update (one row per updated product; created
    products need none, ``Product.created_by_job`` says enough), so that the import can show
    what it changed and be reverted.
    """

    job_id = models.UUIDField()
    row_number = models.PositiveIntegerField()
    ean = EanField(max_length=13)
    # Every written field, and updated_at, as JSON: before and after the import's write.
    before = models.JSONField()
    after = models.JSONField()
    # Who had written the product before this import (restored with it on revert).
    previous_job = models.UUIDField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job_id", "row_number"], name="catalog_change_job_row")]

    def __str__(self) -> str:
        return f"{self.ean} (row {self.row_number})"
