"""The comparison: django-import-export, in its fastest documented setup, on the same file and database.

django-import-export is not one of the project's dependencies: ``ensure_installed`` puts it (and
tablib, which it reads files with) in ``var/bench/die-site``, a folder only this benchmark adds to
its ``sys.path``. ``python -m bench.die FILE`` then imports FILE into the catalog the way its
documentation's "bulk" section advises (``use_bulk``, ``batch_size = 1000``, ``skip_diff``, the
cached instance loader) and prints the seconds it took, end to end: reading the CSV into a
dataset, then ``import_data``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "var" / "bench" / "die-site"
PACKAGES = ("django-import-export>=4.3,<5", "tablib>=3.5", "diff-match-patch")


def ensure_installed() -> Path:
    """django-import-export in a folder of the bench's own (pip, once); returns the folder."""
    if not (SITE / "import_export").is_dir():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(SITE),
                *PACKAGES,
            ],
            check=True,
        )
    return SITE


def main(path: str) -> None:
    sys.path.insert(0, str(SITE))
    import django

    django.setup()
    import tablib
    from import_export import resources
    from import_export.instance_loaders import CachedInstanceLoader

    from catalog.models import Product

    class ProductResource(resources.ModelResource):
        class Meta:
            model = Product
            fields = ("ean", "name", "price", "brand", "category", "stock")
            import_id_fields = ("ean",)
            use_bulk = True
            batch_size = 1000
            skip_diff = True
            skip_unchanged = False
            instance_loader_class = CachedInstanceLoader

    started = time.perf_counter()
    dataset = tablib.Dataset().load(Path(path).read_text(encoding="utf-8"), format="csv")
    result = ProductResource().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    created = result.totals["new"]
    print(f"{seconds:.3f} {created}")


if __name__ == "__main__":
    main(sys.argv[1])
