"""EAN/GTIN normalisation to the 13-digit form the catalog is keyed by (CONTRACT §3)."""

from dataclasses import dataclass
from decimal import Decimal

EAN_MISSING = "EAN missing"
EAN_FORMAT_INVALID = "EAN format invalid (expected 13 digits)"
EAN_CHECK_DIGIT_INVALID = "EAN check digit invalid"
# Shorter digit strings are too far from a GTIN to be one that lost its zeros.
MIN_TEXT_DIGITS_TO_PAD = 9


class EanError(ValueError):
    """The value cannot be an EAN-13; ``str(error)`` is one of the contract's messages."""


@dataclass(frozen=True)
class Ean:
    value: str
    # Set when the input had to be rewritten to become an EAN-13, saying how.
    warning: str | None = None


def normalize_ean(raw: object) -> Ean:
    """Read ``raw`` (a cell: text, or a number from Excel or JSON) as an EAN-13."""
    if type(raw) is str and len(raw) == 13 and raw.isascii() and raw.isdigit():
        return Ean(_checked(raw))  # the usual cell, without the general path
    numeric = isinstance(raw, int | float | Decimal) and not isinstance(raw, bool)
    if numeric:
        text = _number_to_digits(raw)  # type: ignore[arg-type]  # narrowed by ``numeric``
    else:
        text = "" if raw is None else str(raw)
    digits = text.replace(" ", "").replace("-", "").replace("\u00a0", "")
    if not digits:
        raise EanError(EAN_MISSING)
    if not digits.isascii() or not digits.isdigit():
        raise EanError(EAN_FORMAT_INVALID)

    if len(digits) == 13:
        return Ean(_checked(digits))
    if len(digits) == 14 and digits.startswith("0"):
        return Ean(_checked(digits[1:]), "GTIN-14 normalised to EAN-13 (leading 0 removed)")
    if len(digits) == 12:
        return Ean(_checked("0" + digits), "UPC-A normalised to EAN-13 (leading 0 added)")
    if len(digits) == 8 and not numeric:
        return Ean(_checked("00000" + digits), "EAN-8 normalised to EAN-13 (zero-padded)")
    if numeric and len(digits) < 13:
        # A spreadsheet or JSON number drops leading zeros; padding restores the GTIN-13 form
        # (EAN-8 and UPC-A included), and the check digit tells whether that was right.
        padded = digits.zfill(13)
        if gs1_check_digit_ok(padded):
            return Ean(padded, "leading zeros restored (the cell was a number)")
        raise EanError(EAN_CHECK_DIGIT_INVALID)
    if MIN_TEXT_DIGITS_TO_PAD <= len(digits) < 12 and gs1_check_digit_ok(digits.zfill(13)):
        # A CSV saved back by Excel or LibreOffice carries the zeros the spreadsheet dropped as
        # lost; only a matching check digit (one chance in ten for noise) earns the padding.
        return Ean(digits.zfill(13), f"leading zeros restored (the file had {len(digits)} digits)")
    raise EanError(EAN_FORMAT_INVALID)


def _number_to_digits(raw: int | float | Decimal) -> str:
    if isinstance(raw, float):
        if not raw.is_integer():
            raise EanError(EAN_FORMAT_INVALID)
        raw = int(raw)
    if isinstance(raw, Decimal):
        # NaN, Infinity and 1E+999999 are no GTIN, and int() of the last one takes minutes.
        if not raw.is_finite() or raw.adjusted() > 20 or raw != raw.to_integral_value():
            raise EanError(EAN_FORMAT_INVALID)
        raw = int(raw)
    if raw < 0 or raw.bit_length() > 70:
        raise EanError(EAN_FORMAT_INVALID)
    return str(raw)


def gs1_check_digit_ok(digits: str) -> bool:
    """The GS1 mod-10 check of a string of ASCII digits (any GTIN length).

    Hand-written because it runs once per imported row: python-stdnum's ``ean.is_valid`` is
    the reference (tests compare the two) but costs ~30 µs a call, ten times this.
    """
    if len(digits) == 13:
        # The usual EAN-13, unrolled on the ASCII codes (four times faster): the weights
        # 1,3,1,...,3,1 add up to 25, and 25 * ord("0") = 1200 is 0 modulo 10.
        d = digits.encode()
        odd = d[1] + d[3] + d[5] + d[7] + d[9] + d[11]
        return (d[0] + d[2] + d[4] + d[6] + d[8] + d[10] + d[12] + 3 * odd) % 10 == 0
    total = 3 * sum(map(int, digits[-2::-2])) + sum(map(int, digits[-3::-2]))
    return (10 - total % 10) % 10 == ord(digits[-1]) - 48


def _checked(ean13: str) -> str:
    if not gs1_check_digit_ok(ean13):
        raise EanError(EAN_CHECK_DIGIT_INVALID)
    return ean13
