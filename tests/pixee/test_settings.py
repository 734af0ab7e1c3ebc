"""Production settings fail closed: checked in fresh processes, as an operator would start them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_VARS = ("DEBUG", "SECRET_KEY", "PIXEE_ENCRYPTION_KEYS", "DJANGO_SETTINGS_MODULE")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _compose_environment() -> dict[str, str]:
    """The app's environment as docker-compose.yml gives it, secrets filled in as an operator would."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    operator = {
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "PIXEE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    env = {}
    for name, value in compose["x-app"]["environment"].items():
        match = re.fullmatch(r"\$\{(\w+):([?-])([^}]*)\}", str(value))
        if match:
            var, kind, default = match.groups()
            value = operator[var] if kind == "?" else default
        env[name] = str(value)
    return env


def test_debug_is_off_unless_asked_for():
    secrets = {"SECRET_KEY": "x" * 60, "PIXEE_ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    result = _run(secrets, "shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "SECRET_KEY"),
        ({"PIXEE_ENCRYPTION_KEYS": Fernet.generate_key().decode()}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 60}, "PIXEE_ENCRYPTION_KEYS"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 60, "PIXEE_ENCRYPTION_KEYS": " "}, "PIXEE_ENCRYPTION_KEYS"),
    ],
)
def test_production_without_a_secret_stops_at_start_with_one_sentence(env, missing):
    result = _run(env, "check")
    assert result.returncode != 0
    assert result.stderr.strip().startswith(f"{missing} must be set when DEBUG is off")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_docker_compose_configuration_passes_check_deploy():
    result = _run(_compose_environment(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_web_workers_are_recycled_with_jitter():
    # A worker that read a hostile file keeps its peak memory: recycle them, not all at once.
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for command in (compose["services"]["web"]["command"], _dockerfile_cmd()):
        assert "--max-requests" in command and "--max-requests-jitter" in command
        assert int(command[command.index("--max-requests-jitter") + 1]) > 0


def _dockerfile_cmd() -> list[str]:
    import json

    lines = (ROOT / "Dockerfile").read_text().splitlines()
    line = next(text for text in lines if text.startswith("CMD "))
    return json.loads(line[4:])
