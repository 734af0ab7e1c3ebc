"""Hostile files through the whole job: each fails fast with one clear sentence, writes nothing to
the catalog, reads nothing from disk or network, and keeps memory bounded.

The reader-level tests (test_formats_*.py) pin each limit; these check what the user and the
catalog see when a job meets one, at least once per format. The worker-level checks (a real
worker survives the nastiest ones) are in test_hostile_files_worker.py, the worker's memory
figures from /proc in test_hostile_files_memory.py.
"""

from __future__ import annotations

import http.server
import io
import re
import sys
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.models import Product
from imports.formats import xlsx as xlsx_module
from imports.models import ImportLog
from tests.factories import ean13

from .catalog_files import import_file

pytestmark = pytest.mark.django_db
FILES = Path(__file__).resolve().parent.parent / "files"
# Far above what reading any of these needs (a few MB), far below what expanding one would take.
MEMORY_BOUND = 48 << 20
TIME_BOUND = 15.0  # seconds; each case takes well under one


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def billion_laughs() -> bytes:
    """The classic: 10 levels of 10 references, a billion "lol"s (3 GB) from under 1 KB."""
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(levels)}]>'
        f"<produits><produit><ean>{ean13(1)}</ean><nom>&lol9;</nom></produit></produits>"
    ).encode()


def quadratic_blowup() -> bytes:
    """One 100 KB entity referenced 10 000 times: 1 GB of text, no nesting for a parser to count."""
    return (
        f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "{"a" * 100_000}">]>'
        f"<produits><produit><ean>{ean13(1)}</ean><nom>{'&a;' * 10_000}</nom></produit></produits>"
    ).encode()


def json_nesting_bomb() -> bytes:
    return b'[{"ean": "' + ean13(1).encode() + b'", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]"


DTD_REFUSED = (
    "The XML file declares a document type (<!DOCTYPE {name}>); DTDs are refused for safety, "
    "as they can define entities that expand without bound."
)
# file type, content (bytes or a builder), the job's error_summary (a string or a regex)
CASES: dict[str, tuple[str, bytes | Callable[[], bytes], str | re.Pattern]] = {
    "csv: a 200 KB field": (
        "csv",
        f"ean,name,description\n{ean13(1)},A,{'x' * 200_000}\n".encode(),
        "A field ending at line 2 is longer than 100000 characters (is a quote left open?).",
    ),
    "csv: a NUL byte past the sniffed start": (
        "csv",
        ("ean,name\n" + "".join(f"{ean13(n)},P{n}\n" for n in range(1, 20_001)) + "x,\x00\n").encode(),
        "Line 20002 contains a NUL byte: the file is not CSV text.",
    ),
    "csv: an unterminated quote": (
        "csv",
        f'ean,name\n{ean13(1)},"open\n{ean13(2)},B\n'.encode(),
        "A quoted field is never closed: the file ends inside quotes (line 3).",
    ),
    "json: nested 100 000 deep": (
        "json",
        json_nesting_bomb,
        "Item 1 is nested more than 64 levels deep (at key 'a').",
    ),
    "json: a 5000-digit number": (
        "json",
        b'[{"ean": "' + ean13(1).encode() + b'", "price": 1' + b"0" * 5000 + b"}]",
        "The JSON file holds a number longer than 4000 digits (from byte 35); numbers that long are refused.",
    ),
    "json: NaN": (
        "json",
        b'[{"ean": "' + ean13(1).encode() + b'", "price": NaN}]',
        "The JSON is malformed in item 1 (after key 'price'): NaN and Infinity are not JSON numbers.",
    ),
    "xml: billion laughs": ("xml", billion_laughs, DTD_REFUSED.format(name="lolz")),
    "xml: quadratic blowup": ("xml", quadratic_blowup, DTD_REFUSED.format(name="p")),
    "xlsx: a zip bomb (ratio)": (
        "xlsx",
        lambda: zip_bytes({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"\x00" * (50 << 20)}),
        re.compile(
            r"^The workbook's part 'xl/worksheets/sheet1\.xml' inflates \d+ times "
            r"\(at most 100 is accepted\): it looks like a zip bomb\.$"
        ),
    ),
    "xlsx: too many entries": (
        "xlsx",
        lambda: zip_bytes({"xl/workbook.xml": b"<w/>", **{f"xl/media/{n}.bin": b"" for n in range(10_001)}}),
        "The workbook holds 10002 files; at most 10000 are accepted (zip bomb?).",
    ),
    "xlsx: a part named ../../": (
        "xlsx",
        lambda: zip_bytes({"xl/workbook.xml": b"<w/>", "xl/../../../etc/cron.d/evil": b"* * * * * root sh"}),
        "The workbook contains an unsafe file path 'xl/../../../etc/cron.d/evil'.",
    ),
}


def assert_failed_cleanly(job, expected: str | re.Pattern) -> None:
    assert job.status == "failed", job.error_summary
    if isinstance(expected, re.Pattern):
        assert expected.search(job.error_summary), job.error_summary
    else:
        assert job.error_summary == expected
    assert not Product.objects.exists()
    # One sentence for the user, in the logs too; no row was logged as if it had been read.
    assert ImportLog.objects.filter(job=job, level="error", row_number__isnull=True).get().message == (
        f"Import failed: {job.error_summary}"
    )
    assert not ImportLog.objects.filter(job=job, row_number__isnull=False).exists()


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_file_fails_the_job_fast_with_one_sentence_and_writes_nothing(case):
    file_type, content, expected = CASES[case]
    data = content() if callable(content) else content
    tracemalloc.start()
    started = time.monotonic()
    try:
        job = import_file(data, file_type)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_failed_cleanly(job, expected)
    assert elapsed < TIME_BOUND, f"{case} took {elapsed:.1f}s"
    assert peak < MEMORY_BOUND, f"{case} allocated {peak >> 20} MB"


@pytest.mark.parametrize(
    "limit, value, expected",
    [
        (
            "MAX_UNCOMPRESSED_BYTES",
            10_000,
            re.compile(r"^The workbook inflates to \d+ bytes; at most 10000 are accepted\.$"),
        ),
        (
            "MAX_SHARED_STRINGS_BYTES",
            100,
            re.compile(
                r"^The workbook's shared text table inflates to \d+ bytes; at most 100 are accepted, "
                r"as it is held in memory \(export it as CSV\)\.$"
            ),
        ),
    ],
)
def test_workbooks_over_the_inflated_size_limits_fail_the_job(monkeypatch, limit, value, expected):
    # Real limits are gigabytes; lowered here so a real workbook (with shared strings) breaks them.
    monkeypatch.setattr(xlsx_module, limit, value)
    job = import_file((FILES / "libreoffice_text_ean.xlsx").read_bytes(), "xlsx")
    assert_failed_cleanly(job, expected)


# --- nothing is read from disk or fetched from the network --------------------------------------


class _Audit:
    """Records file opens and socket connections (PEP 578 audit events) while ``active``."""

    def __init__(self):
        self.events: list[tuple[str, tuple]] | None = None
        sys.addaudithook(self._hook)  # hooks cannot be removed: this one only records when asked

    def _hook(self, event: str, args: tuple) -> None:
        if self.events is not None and event in ("open", "socket.connect", "socket.getaddrinfo"):
            self.events.append((event, args))

    def __enter__(self) -> list[tuple[str, tuple]]:
        self.events = []
        return self.events

    def __exit__(self, *exc) -> None:
        self.events = None


_audit: _Audit | None = None


@pytest.fixture
def audit():
    global _audit
    if _audit is None:
        _audit = _Audit()
    return _audit


@pytest.fixture
def listener():
    """A loopback HTTP server that records every request it gets (there must be none)."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY leak "fetched">')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.requests = requests  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def test_an_external_entity_pointing_at_a_local_file_reads_nothing(audit, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE produits [<!ENTITY secret SYSTEM "file://{secret}">]>'
        f"<produits><produit><ean>{ean13(1)}</ean><nom>&secret;</nom></produit></produits>"
    ).encode()
    with audit as events:
        job = import_file(data, "xml")
    assert_failed_cleanly(job, DTD_REFUSED.format(name="produits"))
    assert not [e for e in events if e[0] == "open" and str(e[1][0]).endswith("secret.txt")]
    assert "TOP-SECRET-CANARY" not in " ".join(ImportLog.objects.values_list("message", flat=True))


def test_a_doctype_naming_an_external_dtd_imports_without_fetching_it(audit, listener):
    data = (
        f'<?xml version="1.0"?><!DOCTYPE produits SYSTEM "http://127.0.0.1:{listener.server_port}/x.dtd">'
        f"<produits><produit><ean>{ean13(1)}</ean><nom>A</nom></produit></produits>"
    ).encode()
    with audit as events:
        job = import_file(data, "xml")
    assert (job.status, job.products_created) == ("completed", 1), job.error_summary
    assert listener.requests == []
    assert not [e for e in events if e[0].startswith("socket.")]


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE produits [<!ENTITY leak SYSTEM "http://127.0.0.1:{port}/entity">]>',  # XXE over http
        '<!DOCTYPE produits [<!ENTITY % dtd SYSTEM "http://127.0.0.1:{port}/p.dtd"> %dtd;]>',  # parameter
    ],
)
def test_an_external_entity_or_dtd_over_http_fetches_nothing(audit, listener, doctype):
    data = (
        '<?xml version="1.0"?>' + doctype.format(port=listener.server_port) + "<produits><produit>"
        f"<ean>{ean13(1)}</ean><nom>&amp;</nom></produit></produits>"
    ).encode()
    with audit as events:
        job = import_file(data, "xml")
    assert_failed_cleanly(job, DTD_REFUSED.format(name="produits"))
    assert listener.requests == []
    assert not [e for e in events if e[0].startswith("socket.")]
