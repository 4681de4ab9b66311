"""Cron parsing and fire times, including DST transitions in Europe/Berlin."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tidepool.errors import InvalidCronExpression
from tidepool.scheduler import CronExpression

UTC, BERLIN = dt.timezone.utc, ZoneInfo("Europe/Berlin")


def at(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_basic_fire_times():
    def nxt(expr, *after):
        return CronExpression(expr).next_after(at(*after), UTC)

    assert nxt("*/15 * * * *", 2024, 5, 1, 10, 7) == at(2024, 5, 1, 10, 15)
    assert nxt("0 2 * * *", 2024, 5, 1, 2) == at(2024, 5, 2, 2)  # strictly after
    assert nxt("30 8 * * MON-FRI", 2024, 5, 4) == at(2024, 5, 6, 8, 30)  # Sat -> Mon
    assert nxt("@yearly", 2024, 3, 1) == at(2025, 1, 1)


def test_day_of_month_or_day_of_week():
    # both restricted: the 13th OR any Friday; 2024-09-06 is a Friday
    assert CronExpression("0 12 13 * FRI").next_after(at(2024, 9, 1), UTC) == at(2024, 9, 6, 12)


def test_dst_gap_shifts_forward():
    fire = CronExpression("30 2 * * *").next_after(at(2024, 3, 30, 23), BERLIN)
    assert fire.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2024-03-31 03:30 CEST"


def test_dst_overlap_runs_once():
    expr = CronExpression("30 2 * * *")
    first = expr.next_after(at(2024, 10, 26, 23), BERLIN)
    assert first == at(2024, 10, 27, 0, 30)  # 02:30 CEST
    assert expr.next_after(first, BERLIN) == at(2024, 10, 28, 1, 30)  # next day, CET


@pytest.mark.parametrize("text, reason", [
    ("0 25 * * *", "hour value 25 out of range 0-23"),
    ("0 0 * * * *", "expected 5 fields, got 6"),
    ("*/0 * * * *", "step '0' must be a positive integer"),
    ("0 0 * FOO *", "unknown value 'FOO' in month"),
    ("0 0 30 2 *", "never matches a real date"),
])
def test_invalid(text, reason):
    with pytest.raises(InvalidCronExpression) as info:
        CronExpression(text).next_after(at(2024, 1, 1), UTC)
    assert str(info.value) == f"invalid cron expression '{text}': {reason}"
