"""automations/schedule.py on its own: parsing, the shortest gap, words, time zones, next runs."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from automations.schedule import (
    CronFields,
    ScheduleError,
    describe,
    next_runs,
    normalize,
    parse_cron,
    shortest_interval_minutes,
    validate_timezone,
)


@pytest.mark.parametrize(
    ("expression", "fields"),
    [
        ("0 2 * * *", ("0", "2", "*", "*", "*")),
        ("0 2 * * MON-FRI", ("0", "2", "*", "*", "1-5")),  # names become numbers beat reads
        ("  30   6 1 JAN,JUL 7 ", ("30", "6", "1", "1,7", "0")),  # 7 is Sunday, as 0
        ("@daily", ("0", "0", "*", "*", "*")),
        ("@HOURLY", ("0", "*", "*", "*", "*")),
        ("*/15 8-18 * * *", ("*/15", "8-18", "*", "*", "*")),
    ],
)
def test_parse_cron_gives_the_numeric_fields_beat_stores(expression, fields):
    assert parse_cron(expression) == CronFields(*fields)
    assert str(parse_cron(expression)) == " ".join(fields)


def test_normalize_keeps_one_space_between_fields():
    assert normalize("  0\t2  * *   * ") == "0 2 * * *"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("@reboot", "@reboot is not supported: use @yearly, @annually, @monthly, @weekly, @daily, @midnight"),
        ("0 2 * *", "The cron expression has 4 field(s); expected five fields"),
        ("", "The cron expression has 0 field(s)"),
        ("0 24 * * *", "The hour field '24' is invalid (allowed values are 0-23)."),
        ("0 0 * 13 *", "The month field '13' is invalid (allowed values are 1-12)."),
        ("5-1 * * * *", "The minute field '5-1' is invalid (a range goes from low to high, such as 1-5)."),
        ("0 0 L * *", "The day-of-month field 'L' is invalid (expected numbers, *, ranges"),
    ],
)
def test_parse_cron_names_the_field_at_fault(expression, message):
    with pytest.raises(ScheduleError) as caught:
        parse_cron(expression)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("0 2 * * *", 24 * 60),
        ("0 9 * * 1", 24 * 60),  # day fields are ignored: the conservative reading
        ("0 * * * *", 60),
        ("*/15 8-18 * * *", 15),
        ("0 0,12 * * *", 12 * 60),
        ("2,58 23,0 * * *", 4),  # 23:58 to 00:02, across midnight
        ("0,50 * * * *", 10),  # :50 to the next hour's :00
    ],
)
def test_shortest_interval_is_the_smallest_gap_between_two_firings(expression, minutes):
    assert shortest_interval_minutes(parse_cron(expression)) == minutes


def test_describe_says_the_schedule_in_words_and_nothing_for_nonsense():
    assert describe("0 2 * * MON-FRI") == "At 02:00, Monday through Friday"
    assert describe("*/15 8-18 * * *") == "Every 15 minutes, between 08:00 and 18:59"
    assert describe("every day") == ""


def test_validate_timezone_trims_and_refuses_what_is_not_iana():
    assert validate_timezone(" Europe/Paris ") == "Europe/Paris"
    for name in ("Mars/Olympus", "../../etc/passwd", ""):
        with pytest.raises(ScheduleError, match="is not an IANA time zone name"):
            validate_timezone(name)


def test_next_runs_are_in_the_schedules_own_time_zone():
    new_york = ZoneInfo("America/New_York")
    # Monday 30 November 2026, 10:00 in New York: this Monday's 09:00 has passed.
    after = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

    runs = next_runs("0 9 * * 1", "America/New_York", count=2, after=after)

    assert runs == [
        datetime(2026, 12, 7, 9, 0, tzinfo=new_york),
        datetime(2026, 12, 14, 9, 0, tzinfo=new_york),
    ]
    assert runs[0].utcoffset().total_seconds() == -5 * 3600


def test_next_runs_follow_a_change_of_utc_offset():
    # New York leaves daylight saving time on 1 November 2026: 09:00 is 13:00 UTC before, 14:00 after.
    runs = next_runs(
        "0 9 * * *", "America/New_York", count=2, after=datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    )

    assert [moment.day for moment in runs] == [31, 1]
    assert [moment.hour for moment in runs] == [9, 9]
    assert [moment.astimezone(UTC).hour for moment in runs] == [13, 14]
