"""Cron schedules: validated with a message naming the field at fault, described in words, and
the next run times, computed by the same celery ``crontab`` that beat uses.

Note: like celery (and unlike Vixie cron), when both day-of-month and day-of-week are restricted a
day must match both.
"""

from __future__ import annotations

import itertools
import re
import zoneinfo
from dataclasses import astuple, dataclass
from datetime import datetime

import crontab as python_crontab
from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_celery_beat import validators

FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELD_VALIDATORS = (
    validators.minute_validator,
    validators.hour_validator,
    validators.day_of_month_validator,
    validators.month_of_year_validator,
    validators.day_of_week_validator,
)
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD_CHARACTERS = re.compile(r"^[A-Za-z0-9*,/\-]+$", re.ASCII)
FORMAT_HELP = 'five fields: minute hour day-of-month month day-of-week, such as "0 2 * * *" (daily at 2 AM)'


class ScheduleError(ValueError):
    """The cron expression or time zone is invalid; the message says which part and why."""


@dataclass(frozen=True)
class CronFields:
    """A validated expression in the numeric form both celery and django-celery-beat read."""

    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str

    def __str__(self) -> str:
        return " ".join(astuple(self))

    def crontab(self, tz: zoneinfo.ZoneInfo | None = None) -> crontab:
        schedule = crontab(
            minute=self.minute,
            hour=self.hour,
            day_of_month=self.day_of_month,
            month_of_year=self.month_of_year,
            day_of_week=self.day_of_week,
        )
        if tz is not None:
            schedule.tz = tz
        return schedule


def normalize(expression: str) -> str:
    """The expression as stored: trimmed, one space between fields."""
    return " ".join(str(expression).split())


def parse_cron(expression: str) -> CronFields:
    """``expression`` checked, names (``MON``, ``JAN``) and ``7`` (Sunday) turned into numbers."""
    text = normalize(expression)
    text = MACROS.get(text.lower(), text)
    if text.startswith("@"):
        raise ScheduleError(f"{text} is not supported: use {', '.join(MACROS)} or {FORMAT_HELP}.")
    parts = text.split(" ") if text else []
    if len(parts) != 5:
        raise ScheduleError(f"The cron expression has {len(parts)} field(s); expected {FORMAT_HELP}.")
    for name, value, validate in zip(FIELD_NAMES, parts, _FIELD_VALIDATORS, strict=True):
        try:
            if not _FIELD_CHARACTERS.match(value):
                # The parsers take any Unicode digit ("٣"); beat's crontab must read what we store.
                raise ValueError("No enumeration")
            validate(value)
        except (ValidationError, ValueError, KeyError) as exc:
            raise ScheduleError(f"The {name} field {value!r} is invalid ({_detail(exc)}).") from None
    slices = python_crontab.CronSlices(text)
    fields = CronFields(*(s.render(resolve=True) for s in slices))
    try:
        fields.crontab()  # what beat will parse; refuse here anything it would choke on
    except ValueError as exc:
        raise ScheduleError(f"The cron expression {text!r} is invalid ({_detail(exc)}).") from None
    return fields


def shortest_interval_minutes(fields: CronFields) -> int:
    """The shortest gap between two firings, in minutes (conservatively: day fields ignored)."""
    schedule = fields.crontab()
    minutes, hours = sorted(schedule.minute), sorted(schedule.hour)
    gaps = [b - a for a, b in itertools.pairwise(minutes)]
    # From the last firing of one matching hour to the first of the next (cyclic over the day).
    for index, hour in enumerate(hours):
        following = hours[(index + 1) % len(hours)]
        hour_gap = (following - hour) % 24 or 24
        gaps.append(hour_gap * 60 - minutes[-1] + minutes[0])
    return min(gaps)


def _detail(exc: BaseException) -> str:
    messages = getattr(exc, "messages", None) or [str(exc)]
    text = " ".join(str(m) for m in messages).rstrip(".")
    # python-crontab's wording ("'61', not in 0-59 for Minutes") said the way a user reads it.
    if match := re.search(r"not in (\d+-\d+)", text):
        return f"allowed values are {match.group(1)}"
    if "Bad range" in text:
        return "a range goes from low to high, such as 1-5"
    if "No enumeration" in text:
        return "expected numbers, *, ranges (1-5), lists (1,3), steps (*/15) or names (MON, JAN)"
    return text


def describe(expression: str) -> str:
    """``"0 2 * * *"`` → ``"At 02:00"``."""
    from cron_descriptor import ExpressionDescriptor

    try:
        return ExpressionDescriptor(
            str(parse_cron(expression)), use_24hour_time_format=True
        ).get_description()
    except (ScheduleError, Exception):
        return ""


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"{name!r} is not an IANA time zone name (such as Europe/Paris or UTC)."
        ) from None
    return name


def next_runs(
    expression: str, tz_name: str, *, count: int = 3, after: datetime | None = None
) -> list[datetime]:
    """The next ``count`` times ``expression`` fires in ``tz_name``, after ``after`` (default: now)."""
    tz = zoneinfo.ZoneInfo(tz_name)
    schedule = parse_cron(expression).crontab(tz)
    moment = (after or timezone.now()).astimezone(tz).replace(second=0, microsecond=0)
    runs: list[datetime] = []
    for _ in range(count):
        last, delta, _now = schedule.remaining_delta(moment, tz=tz)
        moment = last + delta
        runs.append(moment)
    return runs
