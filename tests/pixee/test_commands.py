import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product
from pixee.apikeys import api_key_authenticate
from tests.factories import ean13

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_a_working_key_on_its_last_line():
    out = StringIO()
    call_command("create_api_key", "integrator", "--staff", stdout=out, stderr=StringIO())
    raw_key = out.getvalue().strip().splitlines()[-1]
    api_key = api_key_authenticate(raw_key)
    assert api_key is not None
    assert api_key.user.username == "integrator" and api_key.user.is_staff
    assert raw_key not in api_key.hashed_key  # stored hashed


def test_import_file_runs_in_process_and_prints_the_job(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(f"Code,Libellé\n{ean13(1)},Un\n{ean13(2)},Deux\n", encoding="utf-8")
    out = StringIO()
    call_command(
        "import_file",
        str(path),
        "--supplier",
        "SUP",
        "--mapping",
        '{"Code": "ean"}',
        stdout=out,
        stderr=StringIO(),
    )
    job = json.loads(out.getvalue())
    assert (job["status"], job["products_created"], job["supplier_code"]) == ("completed", 2, "SUP")
    assert Product.objects.get(ean=ean13(2)).name == "Deux"


def test_import_file_dry_run_and_failures(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("Title\nA\n")
    with pytest.raises(CommandError, match="No column maps to ean"):
        call_command("import_file", str(path), "--supplier", "SUP", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_file", str(tmp_path / "missing.csv"), "--supplier", "SUP")
    with pytest.raises(CommandError, match="--mapping is not valid JSON"):
        call_command("import_file", str(path), "--supplier", "SUP", "--mapping", "{")
