"""The :class:`Queue`: task registry, enqueueing and job inspection."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

from . import migrations, retry
from .config import Config, load_config, require_database_url
from .errors import DuplicateTask, SerializationError

STATS_KEYS = ("queued", "scheduled", "running", "succeeded", "dead")
ENQUEUE_SQL = """
INSERT INTO tidepool_jobs (queue, task, args, priority, run_at, max_attempts, unique_key)
VALUES (%(queue)s, %(task)s, %(args)s::jsonb, %(priority)s,
        COALESCE(%(run_at)s, now()) + make_interval(secs => %(delay)s),
        %(max_attempts)s, %(unique_key)s)
ON CONFLICT (unique_key) WHERE status IN ('queued', 'running') DO NOTHING
RETURNING id"""
JOB_COLUMNS = ("id, queue, task, args, status, priority, attempts, max_attempts, run_at, "
               "started_at, created_at, finished_at, locked_by, last_error")


def _iso(value):
    return value.isoformat() if isinstance(value, dt.datetime) else value


@dataclass
class Job:
    """A row of ``tidepool_jobs``. ``status`` is queued, running or succeeded."""

    id: int
    queue: str
    task: str
    args: Dict[str, Any]
    status: str
    priority: int
    attempts: int
    max_attempts: int
    run_at: dt.datetime
    started_at: Optional[dt.datetime]
    created_at: dt.datetime
    finished_at: Optional[dt.datetime]
    locked_by: Optional[str]
    last_error: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly dict with ISO 8601 timestamps (dashboard API format)."""
        return {k: _iso(v) for k, v in asdict(self).items()}


class Task:
    """A registered function. ``task(**kw)`` runs it directly, without the queue."""

    def __init__(self, queue: "Queue", func, name: str, defaults: Dict[str, Any]):
        self.queue, self.func, self.name, self.defaults = queue, func, name, defaults
        self.__doc__ = func.__doc__

    def __call__(self, **kwargs):
        return self.func(**kwargs)

    def options(self, **opts) -> "Task":
        """Copy with overridden enqueue options: ``task.options(delay=60).enqueue(...)``."""
        return Task(self.queue, self.func, self.name, {**self.defaults, **opts})

    def enqueue(self, *args, **kwargs) -> Optional[int]:
        if args:
            raise TypeError("tasks accept keyword arguments only")
        opts = {k: v for k, v in self.defaults.items() if k not in ("timeout", "retry_on")}
        return self.queue.enqueue(self.name, kwargs, **opts)


class Queue:
    """Entry point. ``Queue()`` loads settings from the environment and tidepool.toml."""

    def __init__(self, database_url: Optional[str] = None, *, config: Optional[Config] = None):
        self.config = config or load_config(overrides={"database_url": database_url})
        self.tasks: Dict[str, Task] = {}

    def task(self, name=None, *, queue="default", priority=0, max_attempts=None,
             timeout=None, retry_on=(Exception,)):
        """Decorator registering a task; the default name is ``module.function``."""
        def decorator(func) -> Task:
            task_name = name or f"{func.__module__}.{func.__qualname__}"
            if task_name in self.tasks:
                raise DuplicateTask(task_name)
            self.tasks[task_name] = Task(self, func, task_name, dict(
                queue=queue, priority=priority, max_attempts=max_attempts,
                timeout=timeout, retry_on=retry_on))
            return self.tasks[task_name]
        return decorator

    def connect(self, autocommit: bool = True):
        """A new psycopg 3 connection (imported lazily; config code works without it)."""
        url = require_database_url(self.config)
        import psycopg

        return psycopg.connect(url, autocommit=autocommit)

    def enqueue(self, task: str, args: Optional[dict] = None, *, queue: str = "default",
                priority: int = 0, delay: float = 0, run_at: Optional[dt.datetime] = None,
                unique_key: Optional[str] = None, max_attempts: Optional[int] = None,
                conn=None) -> Optional[int]:
        """Insert a job; returns its id, or ``None`` if ``unique_key`` is already pending.

        With ``conn`` (any DB-API connection) the insert joins the caller's transaction.
        """
        try:
            payload = json.dumps(args or {})
        except (TypeError, ValueError) as exc:
            raise SerializationError(task, str(exc)) from None
        params = dict(queue=queue, task=task, args=payload, priority=priority, run_at=run_at,
                      delay=float(delay), unique_key=unique_key,
                      max_attempts=max_attempts or self.config.max_attempts)
        if conn is None:
            with self.connect() as own:
                row = own.execute(ENQUEUE_SQL, params).fetchone()
        else:
            cur = conn.cursor()
            cur.execute(ENQUEUE_SQL, params)
            row = cur.fetchone()
        return row[0] if row else None

    def get_job(self, job_id: int) -> Optional[Job]:
        with self.connect() as conn:
            row = conn.execute(f"SELECT {JOB_COLUMNS} FROM tidepool_jobs WHERE id = %s",
                               (job_id,)).fetchone()
        return Job(*row) if row else None

    def list_jobs(self, status=None, queue=None, limit: int = 50) -> List[Job]:
        """Newest first, optionally filtered by status and queue."""
        sql = (f"SELECT {JOB_COLUMNS} FROM tidepool_jobs"
               " WHERE (%(s)s::text IS NULL OR status = %(s)s)"
               " AND (%(q)s::text IS NULL OR queue = %(q)s) ORDER BY id DESC LIMIT %(n)s")
        with self.connect() as conn:
            return [Job(*r) for r in conn.execute(sql, {"s": status, "q": queue, "n": limit})]

    def cancel(self, job_id: int) -> bool:
        """Delete a job that has not started. Running jobs cannot be cancelled."""
        with self.connect() as conn:
            return conn.execute("DELETE FROM tidepool_jobs WHERE id = %s AND status = 'queued'",
                                (job_id,)).rowcount == 1

    def stats(self, conn=None) -> Dict[str, Dict[str, int]]:
        """Counts per queue for each of :data:`STATS_KEYS`.

        ``scheduled`` = queued with a future ``run_at``; ``succeeded`` = still retained.
        """
        if conn is None:
            with self.connect() as own:
                return self.stats(own)
        out: Dict[str, Dict[str, int]] = {}
        for q, state, n in conn.execute(
                "SELECT queue, CASE WHEN status = 'queued' AND run_at > now() THEN 'scheduled'"
                " ELSE status END, count(*) FROM tidepool_jobs GROUP BY 1, 2"):
            out.setdefault(q, dict.fromkeys(STATS_KEYS, 0))[state] = n
        for q, n in conn.execute("SELECT queue, count(*) FROM tidepool_dead_letters GROUP BY 1"):
            out.setdefault(q, dict.fromkeys(STATS_KEYS, 0))["dead"] = n
        return out

    def dead_letters(self, limit: int = 50) -> List[Dict[str, Any]]:
        cols = ("id", "job_id", "queue", "task", "args", "attempts", "last_error", "failed_at")
        with self.connect() as conn:
            rows = conn.execute(f"SELECT {', '.join(cols)} FROM tidepool_dead_letters"
                                " ORDER BY failed_at DESC LIMIT %s", (limit,))
            return [{k: _iso(v) for k, v in zip(cols, r)} for r in rows]

    def retry_dead(self, dead_id: int) -> Optional[int]:
        """Move a dead letter back into the queue as a new job; returns its id."""
        with self.connect() as conn:
            return retry.retry_dead(conn, dead_id, self.config.max_attempts)

    def check_schema(self, conn) -> None:
        migrations.check_schema(conn)

    def migrate(self, dry_run: bool = False) -> List[int]:
        """Apply pending migrations; returns the versions applied (or pending)."""
        with self.connect(autocommit=False) as conn:
            return migrations.migrate(conn, dry_run=dry_run)
