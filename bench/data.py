"""Deterministic input files, generated on first use and cached under var/bench/.

Every file holds the same catalog shape (six columns: ean, name, price, brand, category, stock),
valid and without duplicates, so the COPY ceiling and the import load exactly the same rows. EANs
come in a scrambled order, as supplier files do, not sorted: index insertion order matters to both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

# Bump when the generated content changes, so stale cached files are not reused.
GENERATOR_VERSION = 1
COLUMNS = ("ean", "name", "price", "brand", "category", "stock")

_BRANDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Soylent", "Tyrell", "Wonka")
_CATEGORIES = ("Garden", "Kitchen", "Office", "Toys", "Sports", "Hardware", "Beauty", "Books")
_ADJECTIVES = ("Blue", "Compact", "Deluxe", "Eco", "Large", "Mini", "Pro", "Silent", "Smart", "Steel")
_NOUNS = ("Lamp", "Chair", "Kettle", "Drill", "Backpack", "Speaker", "Mug", "Notebook", "Ball", "Brush")

# i -> (i * A) mod 10**9 is a bijection (A is coprime with 10), so EANs are distinct and scrambled.
_SCRAMBLE = 387_420_489
_EAN_PREFIX = 400


def check_digit(body: str) -> str:
    total = 3 * sum(map(int, body[-1::-2])) + sum(map(int, body[-2::-2]))
    return str((10 - total % 10) % 10)


def record(i: int) -> tuple[str, str, str, str, str, int]:
    """Row ``i`` of every bench file: (ean, name, price, brand, category, stock)."""
    body = f"{_EAN_PREFIX}{(i * _SCRAMBLE) % 10**9:09d}"
    name = f"{_ADJECTIVES[i % 10]} {_NOUNS[(i // 10) % 10]} {i}"
    price = f"{(i * 7919) % 100_000 / 100:.2f}"
    return (
        body + check_digit(body),
        name,
        price,
        _BRANDS[(i // 3) % len(_BRANDS)],
        _CATEGORIES[(i // 7) % len(_CATEGORIES)],
        (i * 31) % 500,
    )


def records(rows: int) -> Iterator[tuple[str, str, str, str, str, int]]:
    return (record(i) for i in range(rows))


def bench_file(kind: str, rows: int, directory: Path) -> Path:
    """The cached file of ``rows`` records in format ``kind``, generating it if needed."""
    path = directory / f"catalog-{rows}-v{GENERATOR_VERSION}.{kind}"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        _WRITERS[kind](partial, rows)
        # Renamed only once complete, so an interrupted generation is never taken for a cached file.
        os.replace(partial, path)
    return path


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(COLUMNS) + "\n")
        for r in records(rows):
            out.write(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]}\n")


def _write_xlsx(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    # write_only streams rows to the file instead of building the sheet in memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Catalog")
    sheet.append(list(COLUMNS))
    for ean, name, price, brand, category, stock in records(rows):
        # EAN as text (a number would lose leading zeros), price and stock as numbers, as exported.
        sheet.append([ean, name, float(price), brand, category, stock])
    workbook.save(path)


def _write_json(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i, (ean, name, price, brand, category, stock) in enumerate(records(rows)):
            item = {
                "ean": ean,
                "name": name,
                "price": float(price),
                "brand": brand,
                "category": category,
                "stock": stock,
            }
            out.write(("," if i else "") + json.dumps(item, ensure_ascii=False) + "\n")
        out.write("]\n")


def _write_xml(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<products>\n')
        for values in records(rows):
            fields = "".join(f"<{c}>{escape(str(v))}</{c}>" for c, v in zip(COLUMNS, values, strict=True))
            out.write(f"  <product>{fields}</product>\n")
        out.write("</products>\n")


_WRITERS: dict[str, Callable[[Path, int], None]] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "json": _write_json,
    "xml": _write_xml,
}
FORMATS = tuple(_WRITERS)
