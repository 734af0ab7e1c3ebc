from django.db import models


class Product(models.Model):
    """A catalog product, keyed by its EAN-13.

    Text fields are never NULL ("" means unknown) so imports can treat an empty cell as "leave as
    is"; price and stock are NULL when unknown because 0 is a meaningful value for both.
    """

    ean = models.CharField("EAN", max_length=13, unique=True)
    name = models.CharField(max_length=500)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    brand = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=500, blank=True, default="")
    description = models.TextField(blank=True, default="")
    stock = models.PositiveIntegerField(null=True, blank=True)
    image_url = models.URLField(max_length=2000, blank=True, default="")
    sku = models.CharField("SKU", max_length=255, blank=True, default="")
    supplier_code = models.CharField(max_length=100, blank=True, default="", db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ean"]

    def __str__(self) -> str:
        return f"{self.ean} {self.name}"
