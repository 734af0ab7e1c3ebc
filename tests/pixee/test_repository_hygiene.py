"""Runtime state and operator secrets stay out of git and out of the image."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_no_broker_state_is_tracked():
    assert _git("ls-files", "control").stdout == ""


def test_env_files_are_ignored_by_git_and_docker():
    assert _git("check-ignore", "-q", ".env").returncode == 0
    assert _git("check-ignore", "-q", "deploy/.env").returncode == 0
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in dockerignore


def test_the_embedded_broker_keeps_its_control_folder_under_var(tmp_path):
    var = tmp_path / "var"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DEBUG": "true",
        "PIXEE_VAR_DIR": str(var),
        "CELERY_BROKER_URL": "filesystem://",
        "PYTHONPATH": str(ROOT),
    }
    # A broadcast declares the pidbox exchange, which kombu writes under its control folder.
    script = "from pixee.celery import app; app.control.ping(timeout=0.1)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert list(cwd.iterdir()) == []
    assert list((var / "broker" / "control").glob("*.exchange"))
