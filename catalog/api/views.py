from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from pixee.api import PageParamsSerializer, page_response, page_serializer, validated

from ..models import Product
from .serializers import ProductListParamsSerializer, ProductSerializer


class ProductListView(APIView):
    @extend_schema(
        operation_id="catalog_products_list",
        summary="List products",
        parameters=[ProductListParamsSerializer, PageParamsSerializer],
        responses=page_serializer("ProductPage", ProductSerializer(many=True)),
    )
    def get(self, request):
        filters = validated(ProductListParamsSerializer, request.query_params)
        page = validated(PageParamsSerializer, request.query_params)
        products = Product.objects.filter(**filters).order_by("ean")
        return page_response(
            products, **page, serialize=lambda items: ProductSerializer(items, many=True).data
        )


class ProductDetailView(APIView):
    @extend_schema(operation_id="catalog_products_get", summary="Get a product", responses=ProductSerializer)
    def get(self, request, ean):
        return Response(ProductSerializer(get_object_or_404(Product, ean=ean)).data)
