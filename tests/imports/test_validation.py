from decimal import Decimal

import pytest

from imports.formats import RawRow
from imports.mapping import ColumnMapper
from imports.validation import RowValidator
from imports.values import ValueProblem, parse_price, parse_stock


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("29.99", "29.99"),
        ("29,99", "29.99"),
        ("1 234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("€29,99", "29.99"),
        ("29.99 EUR", "29.99"),
        ("29,99 €", "29.99"),
        ("1.234,56", "1234.56"),
        ("1\u202f234,56", "1234.56"),
        ("1,234", "1234"),
        ("0,125", "0.13"),
        ("$ 5", "5.00"),
        (29.99, "29.99"),
        (30, "30.00"),
        (Decimal("12.5"), "12.50"),
        ("1.234.567,89", "1234567.89"),
    ],
)
def test_price_notations(raw, expected):
    assert parse_price(raw)[0] == Decimal(expected)


def test_price_rounding_is_a_warning():
    price, warning = parse_price("9.999")
    assert price == Decimal("10.00")
    assert warning == "price rounded to 10.00 (2 decimal places)"


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "12,34,5",
        "1.2.3",
        "--",
        "",
        float("nan"),
        float("inf"),
        True,
        "1e5",
        Decimal("NaN"),  # a Decimal NaN raises when compared with 0
        Decimal("sNaN"),
        Decimal("-Infinity"),
    ],
)
def test_unreadable_prices(raw):
    with pytest.raises(ValueProblem, match="price unreadable"):
        parse_price(raw)


@pytest.mark.parametrize("raw", ["-1", "-0,50", -3, "(5.00)"])
def test_negative_prices(raw):
    with pytest.raises(ValueProblem, match="price must not be negative"):
        parse_price(raw)


@pytest.mark.parametrize(
    "raw, expected", [("12", 12), (12, 12), (12.0, 12), ("1 200", 1200), ("0", 0), ("7.0", 7)]
)
def test_stock(raw, expected):
    assert parse_stock(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "1.5", "many", 2.5, -4])
def test_bad_stock(raw):
    with pytest.raises(ValueProblem, match="stock must be a whole number of 0 or more"):
        parse_stock(raw)


def validate(values, mapping=None):
    return RowValidator(ColumnMapper(mapping or {})).validate(RawRow(7, values))


def test_a_row_with_several_bad_fields_reports_each():
    result = validate({"EAN": "x", "Prix": "abc", "Stock": "-2", "Titre": "T" * 501})
    assert not result.ok
    assert [(e.field, e.message) for e in result.errors] == [
        ("ean", "EAN format invalid (expected 13 digits)"),
        ("name", "name too long (501 characters, at most 500)"),
        ("price", "price unreadable (expected a number such as 29.99 or 29,99)"),
        ("stock", "stock must be a whole number of 0 or more"),
    ]


def test_image_url_must_be_http():
    result = validate({"ean": "4006381333931", "image": "javascript:alert(1)"})
    assert [(e.field, e.message) for e in result.errors] == [
        ("image_url", "image_url invalid (expected an http:// or https:// address)")
    ]


def test_unmapped_columns_become_attributes_and_blanks_are_absent():
    result = validate({"ean": "4006381333931", "Couleur": " rouge ", "Taille": "", "name": "  "})
    assert result.ok
    assert result.staged["attributes"] == {"Couleur": "rouge"}
    assert result.staged["name"] is None


def test_values_no_database_can_store_are_a_row_error_naming_the_column():
    # JSON's "\u0000", Excel's _x0000_: PostgreSQL's text and jsonb cannot hold them.
    result = RowValidator(ColumnMapper({})).validate(
        RawRow(2, {"ean": "37600\x0000000017", "name": "A", "specs": {"k": ["\ud800"]}})
    )
    assert result.staged is None
    assert [(e.field, e.message, e.value) for e in result.errors] == [
        (
            "ean",
            "the value of column 'ean' holds a NUL character (U+0000): it cannot be stored",
            "37600\ufffd00000017",
        ),
        (
            "attributes",
            "the value of column 'specs' holds a lone UTF-16 surrogate (U+D800), which is not a character: "
            "it cannot be stored",
            '{"k": ["\ufffd"]}',
        ),
    ]


def test_numbers_no_product_field_can_hold_are_row_errors_not_crashes():
    row = RawRow(
        2, {"ean": Decimal("1E+999999"), "name": "A", "stock": Decimal("sNaN"), "w": Decimal("1E+200")}
    )
    result = RowValidator(ColumnMapper({})).validate(row)
    assert [(e.field, e.message) for e in result.errors] == [
        ("ean", "EAN format invalid (expected 13 digits)"),
        ("stock", "stock must be a whole number of 0 or more"),
    ]
