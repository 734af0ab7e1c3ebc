import factory
from django.contrib.auth import get_user_model

from catalog.models import Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")


def ean13(n: int) -> str:
    """A valid EAN-13 built from ``n`` (the 12 first digits, then the GS1 check digit)."""
    from stdnum.ean import calc_check_digit

    body = f"{376000000000 + n:012d}"
    return body + calc_check_digit(body)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    ean = factory.Sequence(lambda n: ean13(900000 + n))
    name = factory.Sequence(lambda n: f"Product {n}")
    supplier_code = "SUPPLIER_A"
