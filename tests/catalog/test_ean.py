import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.ean import EanError, normalize_ean


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("4006381333931", "4006381333931"),
        ("400 6381 333931", "4006381333931"),
        ("400-6381-333931", "4006381333931"),
        (" 4006381333931 ", "4006381333931"),
    ],
)
def test_valid_ean13_is_kept_with_spaces_and_hyphens_stripped(raw, expected):
    ean = normalize_ean(raw)
    assert ean.value == expected
    assert ean.warning is None


@pytest.mark.parametrize(
    "raw, expected, warning",
    [
        ("012345678905", "0012345678905", "UPC-A"),  # UPC-A
        ("96385074", "0000096385074", "EAN-8"),  # EAN-8
        ("04006381333931", "4006381333931", "GTIN-14"),  # GTIN-14 with a leading 0
        (12345678905, "0012345678905", "leading zeros"),  # number that lost its zeros
        ("12345678905", "0012345678905", "the file had 11 digits"),  # CSV re-saved by a spreadsheet
        (12345678905.0, "0012345678905", "leading zeros"),  # Excel float
        (4006381333931, "4006381333931", None),
    ],
)
def test_other_gtins_are_normalised_to_13_digits_with_a_warning(raw, expected, warning):
    ean = normalize_ean(raw)
    assert ean.value == expected
    if warning is None:
        assert ean.warning is None
    else:
        assert warning in ean.warning


@pytest.mark.parametrize("raw", [None, "", "   ", " - "])
def test_missing_ean(raw):
    with pytest.raises(EanError, match=r"^EAN missing$"):
        normalize_ean(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "123ABC7890",
        "40063813338",
        "1234567",
        "40063813339311",
        "14006381333931",
        "3.76E+12",
        3.5,
        -4006381333931,
        True,
    ],
)
def test_malformed_ean(raw):
    with pytest.raises(EanError, match=r"^EAN format invalid \(expected 13 digits\)$"):
        normalize_ean(raw)


@pytest.mark.parametrize("raw", ["4006381333932", "012345678906", "96385075", 12345678906])
def test_wrong_check_digit(raw):
    with pytest.raises(EanError, match=r"^EAN check digit invalid$"):
        normalize_ean(raw)


@given(
    st.sampled_from([8, 12, 13, 14]).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n))
)
@settings(max_examples=500)
def test_fast_check_digit_agrees_with_python_stdnum(digits):
    from stdnum import ean as stdnum_ean

    from catalog.ean import gs1_check_digit_ok

    assert gs1_check_digit_ok(digits) == stdnum_ean.is_valid(digits)
