"""Cron schedules. Only the holder of an advisory lock (the leader) enqueues them."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import metrics
from .errors import ConfigError, InvalidCronExpression

log = logging.getLogger("tidepool.scheduler")

SCHEDULER_LOCK_KEY = 0x74696465  # "tide" = 1953064037
LEADER_RETRY_SECONDS = 30.0
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
          "@hourly": "0 * * * *"}
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12),
          ("day-of-week", 0, 7))
NAMES = {"month": "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(),
         "day-of-week": "SUN MON TUE WED THU FRI SAT".split()}


class CronExpression:
    """A parsed expression; :meth:`next_after` computes fire times."""

    def __init__(self, expression: str):
        self.expression = expression
        parts = MACROS.get(expression.strip().lower(), expression).split()
        if len(parts) != 5:
            self._fail(f"expected 5 fields, got {len(parts)}")
        self.minutes, self.hours, self.days, self.months, dows = (
            self._field(text, *spec) for text, spec in zip(parts, FIELDS))
        self.days_of_week = {d % 7 for d in dows}  # 0 and 7 are Sunday
        self.dom_any, self.dow_any = parts[2].startswith("*"), parts[4].startswith("*")

    def _fail(self, reason: str):
        raise InvalidCronExpression(self.expression, reason)

    def _field(self, text: str, name: str, lo: int, hi: int) -> set:
        values = set()
        for item in text.split(","):
            rng, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                self._fail(f"step '{step}' must be a positive integer")
            if rng == "*":
                start, end = lo, hi
            else:
                first, _, last = rng.partition("-")
                start = self._value(first, name, lo, hi)
                end = self._value(last, name, lo, hi) if last else (hi if step else start)
            values.update(range(start, end + 1, int(step or 1)))
        return values

    def _value(self, text: str, name: str, lo: int, hi: int) -> int:
        names = NAMES.get(name, [])
        if text.upper() in names:
            return names.index(text.upper()) + (1 if name == "month" else 0)
        if not text.isdigit():
            self._fail(f"unknown value '{text}' in {name}")
        if not lo <= int(text) <= hi:
            self._fail(f"{name} value {text} out of range {lo}-{hi}")
        return int(text)

    def _day_matches(self, day: dt.datetime) -> bool:
        dom = day.day in self.days
        dow = (day.weekday() + 1) % 7 in self.days_of_week
        # Classic cron: if both fields are restricted, either one may match.
        return (dom and dow) if (self.dom_any or self.dow_any) else (dom or dow)

    def next_after(self, after: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """First fire time after ``after``, in UTC, matching wall-clock time in ``tz``.

        Times skipped by DST shift forward by the jump; repeated times fire once (fold=0).
        """
        t = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
        t += dt.timedelta(minutes=1)
        limit = t + dt.timedelta(days=5 * 366)
        while t < limit:
            if t.month not in self.months:
                t = dt.datetime(t.year + t.month // 12, t.month % 12 + 1, 1)
            elif not self._day_matches(t):
                t = (t + dt.timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + dt.timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += dt.timedelta(minutes=1)
            else:
                fire = t.replace(tzinfo=tz).astimezone(dt.timezone.utc)
                if fire > after:
                    return fire
                t += dt.timedelta(minutes=1)
        self._fail("never matches a real date")


def get_zone(name: str, schedule: str = "") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        where = f" in schedule '{schedule}'" if schedule else ""
        raise ConfigError(f"unknown time zone '{name}'{where}") from None


class Scheduler:
    """Enqueues jobs for schedule entries while holding the leader lock."""

    def __init__(self, queue, entries, default_tz: str = "UTC"):
        self.queue = queue
        self.entries = [(e, CronExpression(e.cron), get_zone(e.timezone or default_tz, e.name))
                        for e in entries]
        self.next_fire = {}

    def upcoming(self, now=None):
        """``[(entry, next fire time in UTC)]``, used by ``tidepool schedule list``."""
        now = now or dt.datetime.now(dt.timezone.utc)
        return [(e, expr.next_after(now, tz)) for e, expr, tz in self.entries]

    def run(self, stop) -> None:
        """Loop until ``stop`` (a ``threading.Event``) is set."""
        conn, leader = None, False
        while not stop.is_set():
            try:
                if conn is None:
                    conn, leader = self.queue.connect(), False
                if not leader:
                    leader = conn.execute("SELECT pg_try_advisory_lock(%s)",
                                          (SCHEDULER_LOCK_KEY,)).fetchone()[0]
                    metrics.SCHEDULER_LEADER.set(int(leader))
                    if not leader:
                        stop.wait(LEADER_RETRY_SECONDS)
                        continue
                    log.info("became scheduler leader for %d schedule(s)", len(self.entries))
                    self.next_fire = {e.name: fire for e, fire in self.upcoming()}  # no backfill
                stop.wait(self._tick(conn))
            except Exception:  # noqa: BLE001 - lost connection means lost lock
                log.exception("scheduler error; giving up leadership")
                metrics.SCHEDULER_LEADER.set(0)
                if conn is not None:
                    conn.close()
                conn, leader = None, False
                stop.wait(5.0)
        if conn is not None:
            conn.close()  # releases the advisory lock

    def _tick(self, conn) -> float:
        """Enqueue due schedules; return seconds to sleep (0.5 to 30)."""
        now = dt.datetime.now(dt.timezone.utc)
        for entry, expr, tz in self.entries:
            fire = self.next_fire[entry.name]
            if fire <= now:
                job_id = self.queue.enqueue(entry.task, entry.args, queue=entry.queue, conn=conn,
                                            unique_key=f"schedule:{entry.name}:{fire.isoformat()}")
                log.info("schedule %s fired for %s -> job %s", entry.name, fire, job_id)
                self.next_fire[entry.name] = expr.next_after(now, tz)  # missed runs coalesce
        soonest = min(self.next_fire.values(), default=now + dt.timedelta(seconds=30))
        return max(0.5, min(30.0, (soonest - now).total_seconds()))
