"""Domain events: how an app tells the others that something happened without importing them.

An app declares its events as Django signals in its own ``signals.py``, and announces one with
``announce`` inside the transaction that makes the change. Whatever receivers write for it (the
webhooks' events) then commits with the change, or rolls back with it: no crash in between can
lose it. So that a receiver's failure leaves the change and the other receivers alone, each
receiver keeps its writes in a savepoint of its own (``transaction.atomic()``) and leaves outside
effects, such as sending, to on-commit callbacks.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)


def announce(signal: Signal, *, sender: Any = None, **payload: Any) -> None:
    """Call ``signal``'s receivers with ``payload``; one that fails is logged and skipped."""
    for receiver, result in signal.send_robust(sender=sender, **payload):
        if isinstance(result, Exception):
            logger.error("%r failed on %r", receiver, payload, exc_info=result)
