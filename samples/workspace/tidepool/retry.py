"""Retry policy (exponential backoff with jitter) and dead-letter handling."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional, Tuple, Type

from .errors import PermanentFailure

MOVE_TO_DEAD_SQL = """
WITH dead AS (DELETE FROM tidepool_jobs WHERE id = %(id)s AND locked_by = %(worker)s
              RETURNING id, queue, task, args, attempts, created_at)
INSERT INTO tidepool_dead_letters (job_id, queue, task, args, attempts, last_error, created_at)
SELECT id, queue, task, args, attempts, %(error)s, created_at FROM dead RETURNING id"""
RETRY_DEAD_SQL = """
WITH revived AS (DELETE FROM tidepool_dead_letters WHERE id = %(id)s
                 RETURNING queue, task, args)
INSERT INTO tidepool_jobs (queue, task, args, max_attempts)
SELECT queue, task, args, %(max_attempts)s FROM revived RETURNING id"""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how fast failed jobs are retried.

    Exceptions outside ``retry_on``, and ``PermanentFailure``, are never retried.
    """

    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_max: float = 3600.0
    backoff_jitter: float = 0.2
    retry_on: Tuple[Type[BaseException], ...] = (Exception,)

    @classmethod
    def from_config(cls, cfg, **overrides) -> "RetryPolicy":
        values = dict(max_attempts=cfg.max_attempts, backoff_base=cfg.backoff_base,
                      backoff_max=cfg.backoff_max, backoff_jitter=cfg.backoff_jitter)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def delay_for(self, attempt: int, rng: Optional[random.Random] = None) -> float:
        """``min(backoff_max, backoff_base * 2 ** (attempt - 1))`` +/- jitter, in seconds."""
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        delay = min(self.backoff_max, self.backoff_base * 2 ** min(attempt - 1, 62))
        spread = delay * self.backoff_jitter
        return max(0.0, delay + (rng or random).uniform(-spread, spread)) if spread else delay

    def should_retry(self, attempt: int, exc: BaseException) -> bool:
        """True if the job should be re-queued after failing ``attempt``."""
        if isinstance(exc, PermanentFailure) or not isinstance(exc, self.retry_on):
            return False
        return attempt < self.max_attempts


def format_error(exc: BaseException) -> str:
    """``last_error`` text: ``module.Type: message`` (builtins unprefixed), max 2000 chars."""
    name = type(exc).__qualname__
    if type(exc).__module__ != "builtins":
        name = f"{type(exc).__module__}.{name}"
    return f"{name}: {exc}"[:2000]


def move_to_dead_letters(conn, job_id: int, worker_id: str, error: str) -> Optional[int]:
    """Move a claimed job to dead letters; ``None`` if this worker no longer owns it."""
    row = conn.execute(MOVE_TO_DEAD_SQL,
                       {"id": job_id, "worker": worker_id, "error": error}).fetchone()
    return row[0] if row else None


def retry_dead(conn, dead_id: int, max_attempts: int) -> Optional[int]:
    """Re-enqueue a dead letter as a new job (attempts 0); returns the new id or ``None``."""
    row = conn.execute(RETRY_DEAD_SQL, {"id": dead_id, "max_attempts": max_attempts}).fetchone()
    return row[0] if row else None


def purge_dead(conn, older_than_days: int) -> int:
    """Delete dead letters that failed more than ``older_than_days`` days ago."""
    return conn.execute("DELETE FROM tidepool_dead_letters WHERE failed_at < now() - "
                        "make_interval(days => %s)", (older_than_days,)).rowcount
