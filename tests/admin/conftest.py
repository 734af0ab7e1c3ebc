"""Browser fixtures: Playwright driving Debian's Chromium against pytest-django's live server.

Never a browser that Playwright downloads: ``make test`` installs the distribution's Chromium
(scripts/ensure-chromium) and the tests launch that binary.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

from ..factories import UserFactory

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "operator-password-1"


@pytest.fixture
def page(transactional_db, live_server, monkeypatch):
    """A fresh Chromium page whose relative URLs go to the live server."""
    # A failure, never a skip: a browser test that skips quietly passes without testing anything.
    # They are slow tests, so `make test-fast` does not run them; `make test` installs Chromium first.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs it (scripts/ensure-chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio loop on this thread, so Django would refuse the test
    # body's ORM calls as if they came from async code. The test body is plain synchronous code.
    # (Playwright starts here, after the database fixtures, and stops before their teardown.)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()
        # While Playwright runs, Django keeps this thread's connections apart (asgiref's Local is
        # per context): close the ones the test body opened, or they outlive the test database.
        connections.close_all()


@pytest.fixture
def operator(transactional_db):
    """A staff superuser, committed so the live server's thread sees it."""
    return UserFactory(username="operator", email="operator@example.com", superuser=True, password=PASSWORD)


@pytest.fixture
def shoot():
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, user) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
