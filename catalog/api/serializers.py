from rest_framework import serializers

from ..models import Product


class ProductSerializer(serializers.ModelSerializer):
    # "" when the product has no image: a uri or blank, not a uri alone.
    image_url = serializers.URLField(read_only=True, allow_blank=True)
    attributes = serializers.DictField(read_only=True, help_text="Columns that map to no product field.")

    class Meta:
        model = Product
        fields = [
            "ean",
            "name",
            "price",
            "brand",
            "category",
            "description",
            "stock",
            "image_url",
            "sku",
            "supplier_code",
            "attributes",
            "created_at",
            "updated_at",
        ]
        # Always present in an answer: required in the schema, so generated types are not optional.
        read_only_fields = fields


class ProductListParamsSerializer(serializers.Serializer):
    ean = serializers.CharField(required=False)
    supplier_code = serializers.CharField(required=False)
