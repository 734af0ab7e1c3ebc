"""Memory bounds measured where they matter: the peak resident memory (VmHWM in /proc) of a real
Celery worker's pool process that reads the hostile files of issue 16 (items 2 and 3): a huge
cell, line or shared text table, and a batch of long rows.

The worker runs one pool process, first on ordinary small files (its normal figure), then on
each hostile file, uploaded through the API: the peak may grow by a small constant, not by what
the file would expand to. Without the bounds each of these costs hundreds of megabytes.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.conftest import wait_for
from tests.factories import ean13

from .helpers import upload

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc"),
]

# What reading a hostile file may add to the pool process's normal peak: a few blocks of the file
# and one batch's worth of work, never the cell, line or table the file holds.
SMALL_CONSTANT_MIB = 24
MIB = 1 << 20
FILES = Path(__file__).resolve().parent.parent / "files"


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def pool_process(worker) -> int:
    """The pid of the worker's only pool process (the child of its main process)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_status(int(entry.name))["PPid"]) == worker.pid:
                    children.append(int(entry.name))
            except (OSError, KeyError, ValueError):
                continue  # gone meanwhile, or not ours
    assert len(children) == 1, f"expected one pool process, found {children}"
    return children[0]


def peak_mib(pid: int) -> float:
    return int(_status(pid)["VmHWM"].split()[0]) / 1024


def import_through_the_api(api, data: bytes, name: str) -> dict:
    response = upload(api, data, name=name)
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]

    def finished():
        body = api.get(f"/api/v1/imports/jobs/{job_id}").json()
        return body if body["status"] in ("completed", "failed", "ready") else None

    return wait_for(finished, timeout=180, message=f"{name} to finish")


# --- the files ------------------------------------------------------------------------------


def ordinary_csv() -> bytes:
    return ("ean;name;price\n" + "".join(f"{ean13(n)};Product {n};{n}.99\n" for n in range(200))).encode()


def ordinary_workbook(rows: int = 200) -> bytes:
    workbook = Workbook()
    workbook.active.append(["ean", "name", "price"])
    for n in range(rows):
        workbook.active.append([ean13(1000 + n), f"Product {n}", n + 0.99])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _two_letter_noise(size: int) -> bytes:
    """``size`` bytes of a and b at random: ~8 times compressible, far from a zip bomb's ratio."""
    table = bytes(b"ab"[i & 1] for i in range(256))
    return os.urandom(size).translate(table)


def _write_streamed(archive: zipfile.ZipFile, name: str, pieces) -> None:
    with archive.open(name, "w", force_zip64=True) as part:
        for piece in pieces:
            part.write(piece)


def workbook_with_one_huge_cell(cell_mib: int) -> bytes:
    """A one-row workbook whose B2 is an inline text of ``cell_mib`` MiB (issue 16: 400 MB)."""
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(ordinary_workbook(1)))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, source.read(name))
        head = (
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            b'<row r="1"><c r="A1" t="inlineStr"><is><t>ean</t></is></c>'
            b'<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
            b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + ean13(1).encode() + b"</t></is></c>"
            b'<c r="B2" t="inlineStr"><is><t>'
        )
        noise = (_two_letter_noise(MIB) for _ in range(cell_mib))
        tail = b"</t></is></c></row></sheetData></worksheet>"
        _write_streamed(archive, "xl/worksheets/sheet1.xml", [head, *noise, tail])
    return out.getvalue()


def workbook_with_huge_shared_text_under_another_name(table_mib: int) -> bytes:
    """A real workbook (LibreOffice's, with a shared text table) whose table is renamed
    xl/texts.xml, found through [Content_Types].xml and the workbook's relations as openpyxl finds
    it, and inflates to ``table_mib`` MiB, compressed well under the zip-bomb ratio (issue 16:
    600 MB, worker +736 MB)."""
    out = io.BytesIO()
    source = zipfile.ZipFile(FILES / "libreoffice_text_ean.xlsx")
    renamed = {"[Content_Types].xml": b"/xl/texts.xml", "xl/_rels/workbook.xml.rels": b"texts.xml"}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            if name == "xl/sharedStrings.xml":
                continue
            content = source.read(name)
            if name in renamed:
                old = b"/xl/sharedStrings.xml" if name == "[Content_Types].xml" else b"sharedStrings.xml"
                assert old in content, name
                content = content.replace(old, renamed[name])
            archive.writestr(name, content)
        padding = b" shared text of a supplier's catalog" * 8

        def entries():
            yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            written = 0
            while written < table_mib * MIB:
                block = b"".join(
                    b"<si><t>" + os.urandom(2).hex().encode() + padding + b"</t></si>" for _ in range(4096)
                )
                written += len(block)
                yield block
            yield b"</sst>"

        _write_streamed(archive, "xl/texts.xml", entries())
    return out.getvalue()


def csv_with_a_line_of_millions_of_fields() -> bytes:
    """A 15 MB line of 5.2 million fields (issue 16: the worker reached 546 MB)."""
    return b"ean;name\n" + b"ab;" * 5_200_000 + b"\n"


def csv_with_one_huge_field(quoted: bool) -> bytes:
    """A 64 MiB field: on one line, or quoted across many short lines (only the field is long)."""
    if quoted:
        field = b'"' + b"\n".join(_two_letter_noise(1000) for _ in range(64 * 1024)) + b'"'
    else:
        field = _two_letter_noise(64 * MIB)
    return f"ean;name\n{ean13(1)};".encode() + field + b"\n"


HOSTILE = {
    "xlsx: one 256 MiB cell": (
        "xlsx",
        lambda: workbook_with_one_huge_cell(256),
        "The workbook holds a text longer than 100000 characters",
    ),
    "xlsx: a 270 MiB shared text table named xl/texts.xml": (
        "xlsx",
        lambda: workbook_with_huge_shared_text_under_another_name(270),
        "The workbook's shared text table inflates to",
    ),
    "csv: a 15 MB line of 5.2 million fields": (
        "csv",
        csv_with_a_line_of_millions_of_fields,
        "is longer than 2,000,000 characters",
    ),
    "csv: one 64 MiB field on its line": (
        "csv",
        lambda: csv_with_one_huge_field(quoted=False),
        "is longer than 2,000,000 characters",
    ),
    "csv: one 64 MiB quoted field over many lines": (
        "csv",
        lambda: csv_with_one_huge_field(quoted=True),
        "is longer than 100000 characters",
    ),
}


@pytest.fixture(scope="module")
def lone_worker(start_worker):
    return start_worker(concurrency=1)


def test_hostile_files_cost_the_worker_no_more_than_a_small_constant_over_its_normal_figure(api, lone_worker):
    pool = pool_process(lone_worker)
    for name, data in (("ordinary.csv", ordinary_csv()), ("ordinary.xlsx", ordinary_workbook())):
        body = import_through_the_api(api, data, name)
        assert (body["status"], body["products_created"]) == ("completed", 200), body["error_summary"]
    normal = peak_mib(pool)

    figures, summaries = {}, {}
    for case, (file_type, build, _) in HOSTILE.items():
        body = import_through_the_api(api, build(), f"hostile.{file_type}")
        summaries[case] = (body["status"], body["error_summary"])
        assert pool_process(lone_worker) == pool, f"the pool process was replaced after {case}"
        figures[case] = round(peak_mib(pool) - normal, 1)
    print(f"normal peak {normal:.0f} MiB; growth by case (MiB): {figures}")
    assert all(growth < SMALL_CONSTANT_MIB for growth in figures.values()), (normal, figures)
    for case, (_, _, expected) in HOSTILE.items():
        status, summary = summaries[case]
        assert status == "failed" and expected in summary, (case, summary)


def ordinary_csv_of_full_batches(batches: int = 2) -> bytes:
    """Rows like the bench's, as many as ``batches`` of PIXEE_IMPORT_CHUNK_SIZE (20 000) hold."""
    rows = range(20_000 * batches)
    return ("ean;name;price\n" + "".join(f"{ean13(n)};Product {n};{n % 1000}.99\n" for n in rows)).encode()


def csv_of_long_descriptions(rows: int = 20_000, chars: int = 5_000) -> bytes:
    """One batch's worth of rows of 5 KB of description each: ~100 MB (issue 16 item 3)."""
    noise = _two_letter_noise(rows * chars)
    lines = (
        f"{ean13(50_000 + n)};Product {n};9.99;".encode() + noise[n * chars : (n + 1) * chars] + b"\n"
        for n in range(rows)
    )
    return b"ean;name;price;description\n" + b"".join(lines)


def test_a_batch_of_long_rows_costs_the_worker_no_more_than_a_batch_of_ordinary_rows(api, lone_worker):
    """Each row is within every limit; only their number in one batch would hold 100 MB of text."""
    pool = pool_process(lone_worker)
    body = import_through_the_api(api, ordinary_csv_of_full_batches(), "ordinary.csv")
    assert (body["status"], body["products_created"]) == ("completed", 40_000), body["error_summary"]
    normal = peak_mib(pool)

    body = import_through_the_api(api, csv_of_long_descriptions(), "descriptions.csv")
    assert (body["status"], body["products_created"]) == ("completed", 20_000), body["error_summary"]
    assert pool_process(lone_worker) == pool, "the pool process was replaced"
    growth = round(peak_mib(pool) - normal, 1)
    print(f"normal peak {normal:.0f} MiB (40 000 ordinary rows); 20 000 rows of 5 KB: +{growth} MiB")
    assert growth < SMALL_CONSTANT_MIB, (normal, growth)
