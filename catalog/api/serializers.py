from rest_framework import serializers

from ..models import Product


class ProductSerializer(serializers.ModelSerializer):
    # "" when the product has no image: a uri or blank, not a uri alone.
    image_url = serializers.URLField(read_only=True, allow_blank=True)
    attributes = serializers.DictField(read_only=True, help_text="Columns that map to no product field.")

    class Meta:
        model = Product
        # Everything but the row's id and the job references (the undo's bookkeeping), in the
        # model's order.
        fields = [
            field.name
            for field in Product._meta.concrete_fields
            if field.name not in ("id", "created_by_job", "last_job")
        ]
        # Always present in an answer: required in the schema, so generated types are not optional.
        read_only_fields = fields


class ProductListParamsSerializer(serializers.Serializer):
    ean = serializers.CharField(required=False)
    supplier_code = serializers.CharField(required=False)
