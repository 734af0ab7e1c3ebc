"""Cell values read as product values, pure: prices, stocks and web addresses as files write them.

Shared by validation (which reports what a value should have been) and the mapping (which checks
that a column named like a field holds that field's values).
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

MAX_PRICE = Decimal("9999999999.99")

# The common case, read without the general parser: plain digits with up to two decimals.
_PLAIN_PRICE = re.compile(r"\d{1,10}(?:\.\d{1,2})?")
# Currencies as feeds write them ("599 CZK", Google Merchant), longest names first.
_CURRENCY = re.compile(r"(?i)(€|\$|£|¥|kč|zł|chf|euros?|eur|usd|gbp|czk|pln|huf|sek|nok|dkk|ron|bgn|ttc|ht)")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_HTTP_URL = re.compile(r"(?i)^https?://\S+$")


class ValueProblem(ValueError):
    """A cell's value is unusable; the message says what was expected."""


def is_http_url(text: str) -> bool:
    """``text`` is an http:// or https:// address (image_url's form)."""
    return _HTTP_URL.match(text) is not None


def parse_price(value: Any) -> tuple[Decimal, str | None]:
    """``29.99``, ``29,99``, ``1 234,56``, ``1,234.56``, ``€29,99``, ``29.99 EUR`` → Decimal('29.99').

    Returns the price and, when it had to be rounded to cents, a warning.
    """
    if isinstance(value, str) and _PLAIN_PRICE.fullmatch(value):
        return Decimal(value), None
    if isinstance(value, bool):
        raise ValueProblem("price unreadable (expected a number such as 29.99 or 29,99)")
    if isinstance(value, int | float | Decimal):
        if (isinstance(value, float) and not math.isfinite(value)) or (
            isinstance(value, Decimal) and not value.is_finite()  # a Decimal NaN cannot be compared
        ):
            raise ValueProblem("price unreadable (expected a number such as 29.99 or 29,99)")
        amount = Decimal(str(value))
    else:
        amount = _parse_price_text(str(value))
    if amount < 0:
        raise ValueProblem("price must not be negative")
    if amount > MAX_PRICE:  # checked first: quantize() fails past 28 digits
        raise ValueProblem(f"price too large (at most {MAX_PRICE})")
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    warning = f"price rounded to {rounded} (2 decimal places)" if rounded != amount else None
    return rounded, warning


def _parse_price_text(text: str) -> Decimal:
    cleaned = _SPACES.sub("", _CURRENCY.sub("", text))
    negative = cleaned.startswith("-") or (cleaned.startswith("(") and cleaned.endswith(")"))
    cleaned = cleaned.strip("-()+")
    if not re.fullmatch(r"[0-9.,]+", cleaned) or not any(c.isdigit() for c in cleaned):
        raise ValueProblem("price unreadable (expected a number such as 29.99 or 29,99)")
    if "," in cleaned and "." in cleaned:
        # Whichever comes last is the decimal separator, the other groups thousands.
        decimal_sep = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal_sep, ".")
    elif cleaned.count(",") > 1 or cleaned.count(".") > 1:
        sep = "," if "," in cleaned else "."
        if not re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", cleaned):
            raise ValueProblem("price unreadable (expected a number such as 29.99 or 29,99)")
        cleaned = cleaned.replace(sep, "")
    elif "," in cleaned:
        integer, _, fraction = cleaned.partition(",")
        # "1,234" groups thousands; "29,99" and "0,125" use a decimal comma.
        is_grouping = len(fraction) == 3 and integer not in ("", "0")
        cleaned = integer + fraction if is_grouping else f"{integer}.{fraction}"
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueProblem("price unreadable (expected a number such as 29.99 or 29,99)") from None
    return -amount if negative else amount


def parse_stock(value: Any) -> int:
    """A non-negative whole number: ``12``, ``"12"``, ``12.0``, ``"1 200"``."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    problem = ValueProblem("stock must be a whole number of 0 or more")
    if isinstance(value, bool):
        raise problem
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise problem
        value = int(value)
    if not isinstance(value, int):
        text = _SPACES.sub("", str(value))
        if re.fullmatch(r"[+-]?\d+(\.0+)?", text) is None:
            raise problem
        value = int(text.split(".")[0])
    if value < 0:
        raise problem
    if value > 2_147_483_647:
        raise ValueProblem("stock too large (at most 2147483647)")
    return value
