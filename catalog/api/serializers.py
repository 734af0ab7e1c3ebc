from rest_framework import serializers

from ..models import Product


class ProductSerializer(serializers.ModelSerializer):
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


class ProductListParamsSerializer(serializers.Serializer):
    ean = serializers.CharField(required=False)
    supplier_code = serializers.CharField(required=False)
