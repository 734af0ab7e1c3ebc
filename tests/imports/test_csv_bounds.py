"""CSV read strictly and within bounds: mixed encodings fail by row, endless lines fail early."""

import io
import subprocess
import sys
import textwrap

import pytest

from catalog.models import Product
from imports.formats import FormatError
from imports.formats.base import MAX_LINE_CHARS
from imports.formats.csv import CsvReader
from imports.models import ImportLog
from tests.factories import ean13

from .helpers import run_import


@pytest.mark.django_db
def test_a_latin1_byte_in_a_utf8_file_fails_its_row_and_names_the_byte():
    data = (
        b"ean;name\n"
        + f"{ean13(1)};Caf\u00e9 utf8\n".encode()
        + f"{ean13(2)};Caf".encode()
        + b"\xe9 latin1\n"
        + f"{ean13(3)};Cr\u00e8me\n".encode()
    )
    job = run_import(data)
    assert (job.products_created, job.failed_rows) == (2, 1)
    assert Product.objects.get(ean=ean13(1)).name == "Caf\u00e9 utf8"  # not "CafÃ© utf8"
    log = ImportLog.objects.get(job=job, level="error")
    assert log.row_number == 3
    assert "byte 0xE9, which is not UTF-8" in log.message


def test_a_file_of_latin1_only_is_still_read_as_windows_1252():
    reader = CsvReader(io.BytesIO(b"ean;name\n4006381333931;Caf\xe9\n"))
    assert [row.values["name"] for row in reader.rows()] == ["Caf\u00e9"]
    assert reader.encoding == "cp1252"


@pytest.mark.parametrize("quoted", [False, True], ids=["split by polars", "read by csv"])
def test_an_endless_line_fails_before_it_is_read_whole(quoted):
    header = b'ean;"name"\n' if quoted else b"ean;name\n"
    data = header + b";" * (MAX_LINE_CHARS + 10) + b"\n"
    reader = CsvReader(io.BytesIO(data))
    with pytest.raises(FormatError, match="longer than 2,000,000 characters"):
        for _ in reader.batches(1000):
            pass


_PEAK = textwrap.dedent(
    """
    import io, sys
    sys.path.insert(0, {root!r})
    import django, os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pixee.settings")
    django.setup()
    from imports.formats import FormatError
    from imports.formats.csv import CsvReader
    data = open(sys.argv[1], "rb").read()
    def peak():
        return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024
    before = peak()
    try:
        for batch in CsvReader(io.BytesIO(data)).batches(1000):
            pass
    except FormatError:
        pass
    print(peak() - before)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("quoted", [False, True], ids=["split by polars", "read by csv"])
def test_a_15_mb_line_of_5_million_fields_costs_no_more_memory_than_its_own_size(tmp_path, quoted):
    """Measured in a process of its own, from /proc: the peak beyond the file's bytes themselves."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    hostile = tmp_path / "hostile.csv"
    hostile.write_bytes((b'ean;"name"\n' if quoted else b"ean;name\n") + b";;;" * 1_750_000 + b"\n")
    script = tmp_path / "peak.py"
    script.write_text(_PEAK.format(root=root))
    grown = int(
        subprocess.run(
            [sys.executable, str(script), str(hostile)], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
    )
    # The file is 5 MiB of ";": held once as bytes and once, at most, as a line of text.
    assert grown < 60, f"reading the hostile line raised the peak by {grown} MiB"
