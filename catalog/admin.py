"""The catalog in the admin: look products up; imports are what write them."""

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.utils.html import format_html

from pixee.adminsite import json_block

from .models import Product
from .vocabulary import FIELDS, SUPPLIER_FIELD

# Long, linked or nested: shown apart, in their own way (the URL as a link, the JSON as a block).
_CONTENT = ("description", "image_url", "attributes")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("ean", "name", "price", "brand", "stock", "supplier_code", "updated_at")
    list_filter = ("supplier_code",)
    search_fields = ("name",)
    search_help_text = "An EAN (or its first digits) or words of the name."
    list_per_page = 50
    # A catalog of millions: counting the unfiltered table again on every search page is wasted work.
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": (*(f for f in FIELDS if f not in _CONTENT), SUPPLIER_FIELD)}),
        ("Content", {"fields": ("description", "image_link", "attributes_json")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)

    def has_add_permission(self, request):
        # Products come from imports (file → validation → upsert); a hand-made one would skip all of it.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        digits = search_term.replace(" ", "").replace("-", "")
        if digits.isdigit():
            # EANs are looked up by prefix, which the index on ean serves (a substring match would not).
            return queryset.filter(ean__startswith=digits), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Image")
    def image_link(self, product: Product):
        # A link, not an <img>: loading supplier-hosted images would call their servers from the admin.
        if not product.image_url:
            return "—"
        return format_html(
            '<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>', product.image_url
        )

    @admin.display(description="Attributes")
    def attributes_json(self, product: Product):
        return json_block(product.attributes)
