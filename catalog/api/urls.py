from django.urls import re_path

from . import views

urlpatterns = [
    re_path(r"^catalog/products/?$", views.ProductListView.as_view(), name="product-list"),
    re_path(r"^catalog/products/(?P<ean>[^/]+)/?$", views.ProductDetailView.as_view(), name="product-detail"),
]
