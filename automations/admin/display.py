"""How the automation pages write times, statuses and test results."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from .. import services


def when(moment) -> str:
    return date_format(localtime(moment), "Y-m-d H:i") if moment else "—"


def fires_at(moment) -> str:
    """A next run in the automation's own time zone, which is the one its schedule is written in."""
    return date_format(localtime(moment, moment.tzinfo), "D Y-m-d H:i T")


def run_badge(status: str, label: str) -> str:
    return format_html('<span class="pixee-badge pixee-badge--{}">{}</span>', status, label)


def test_summary(result: services.SourceTestResult) -> str:
    if not result.ok:
        return result.error or "The test failed."
    size = filesizeformat(result.size) if result.size is not None else "size not reported"
    modified = when(result.modified_at) if result.modified_at else "modification time not reported"
    return f"Connected; the file is there: {size}, modified {modified}. Nothing was imported."
