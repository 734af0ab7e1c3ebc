"""A product's row held locked by another connection, as a concurrent transaction would."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from catalog.models import Product


@contextmanager
def product_locked(ean: str) -> Iterator[threading.Event]:
    """The product ``ean`` locked (``SELECT … FOR UPDATE``) in another thread's transaction
    until the event yielded is set, or the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Product.objects.select_for_update().get(ean=ean)
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        yield release
    finally:
        release.set()
        holder.join()
