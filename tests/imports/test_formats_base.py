"""What every reader shares (imports/formats/base.py): batches bounded by their rows and their text."""

import io

import pytest

from bench.data import COLUMNS, record
from imports.formats import base, reader_for
from tests.factories import ean13

from .catalog_files import FORMATS, write_catalog

LONG = 3_000  # characters of description per long row


def _catalog(rows: int, description_chars: int) -> list[dict]:
    return [
        {"ean": ean13(n), "name": f"Product {n}", "description": "ab" * (description_chars // 2)}
        for n in range(rows)
    ]


def _batch_sizes(data: bytes, file_type: str, size: int) -> list[int]:
    reader = reader_for(file_type)(io.BytesIO(data), size=len(data))
    return [len(batch) for batch in reader.batches(size)]


# csv's own path (a quote in the file) as well as the split by polars (csv.py's batches).
CASES = [*FORMATS, "csv with quotes"]


def _file(case: str, products: list[dict]) -> tuple[bytes, str]:
    if case == "csv with quotes":
        products = [{**product, "name": f'"{product["name"]}"'} for product in products]
        return write_catalog(products, "csv"), "csv"
    return write_catalog(products, case), case


@pytest.mark.parametrize("case", CASES)
def test_a_batch_of_long_rows_is_cut_once_its_text_reaches_max_batch_chars(monkeypatch, case):
    monkeypatch.setattr(base, "MAX_BATCH_CHARS", 10_000)
    data, file_type = _file(case, _catalog(20, LONG))
    # Each row holds a little over 3 000 characters: the fourth row takes a batch past 10 000.
    assert _batch_sizes(data, file_type, size=100) == [4, 4, 4, 4, 4]


@pytest.mark.parametrize("case", CASES)
def test_short_rows_still_fill_batches_of_the_requested_size(monkeypatch, case):
    monkeypatch.setattr(base, "MAX_BATCH_CHARS", 10_000)
    data, file_type = _file(case, _catalog(45, 20))
    assert _batch_sizes(data, file_type, size=10) == [10, 10, 10, 10, 5]


def test_the_bench_rows_fill_the_default_batch_size():
    """PIXEE_IMPORT_CHUNK_SIZE's 20 000 rows stay one batch for the bench's rows, the longest ones
    (those at the end of its million-row file, 57 characters with their commas) included."""
    rows = (record(i) for i in range(960_000, 1_000_000))
    data = (",".join(COLUMNS) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)).encode()
    assert _batch_sizes(data, "csv", size=20_000) == [20_000, 20_000]


def test_nested_values_count_towards_a_rows_text():
    row = base.RawRow(1, {"ean": "1", "offers": [{"price": "9.99", "seller": "ab" * 50}], "stock": 3})
    assert base.row_chars(row) == 1 + 4 + 100
