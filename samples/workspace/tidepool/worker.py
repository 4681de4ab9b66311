"""The worker: ``concurrency`` fetch threads, housekeeping and scheduler threads.

Each thread owns one connection, so a worker uses ``concurrency + 2`` connections.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from . import __version__, metrics, retry
from .errors import JobTimeout, LockTimeout, UnknownTask
from .queue import JOB_COLUMNS, Job, Queue
from .scheduler import Scheduler

log = logging.getLogger("tidepool.worker")

CLAIM_SQL = f"""
UPDATE tidepool_jobs SET status = 'running', locked_by = %(worker)s, locked_at = now(),
       started_at = now(), attempts = attempts + 1
 WHERE id = (SELECT id FROM tidepool_jobs
              WHERE status = 'queued' AND queue = ANY(%(queues)s) AND run_at <= now()
              ORDER BY priority DESC, run_at, id
              LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING {JOB_COLUMNS}"""
OWNED = "WHERE id = %(id)s AND locked_by = %(worker)s AND attempts = %(attempts)s"
SUCCEED_SQL = "UPDATE tidepool_jobs SET status = 'succeeded', finished_at = now(), " \
              "locked_by = NULL, locked_at = NULL " + OWNED
RETRY_SQL = "UPDATE tidepool_jobs SET status = 'queued', locked_by = NULL, locked_at = NULL, " \
            "last_error = %(error)s, run_at = now() + make_interval(secs => %(delay)s) " + OWNED
STALE = "status = 'running' AND locked_at < now() - make_interval(secs => %(after)s)"
HOUSEKEEPING_SQL = [
    "UPDATE tidepool_jobs SET locked_at = now() WHERE locked_by = %(worker)s "
    "AND status = 'running'",
    # stale jobs without attempts left -> dead letters; the rest -> queued again
    "WITH dead AS (DELETE FROM tidepool_jobs WHERE " + STALE + " AND attempts >= max_attempts "
    "RETURNING id, queue, task, args, attempts, created_at) "
    "INSERT INTO tidepool_dead_letters (job_id, queue, task, args, attempts, last_error, "
    "created_at) SELECT id, queue, task, args, attempts, 'worker lost (stale lock)', "
    "created_at FROM dead",
    "UPDATE tidepool_jobs SET status = 'queued', locked_by = NULL, locked_at = NULL, "
    "last_error = 'worker lost (stale lock)' WHERE " + STALE,
    "DELETE FROM tidepool_jobs WHERE status = 'succeeded' "
    "AND finished_at < now() - make_interval(secs => %(retain)s)",
]
RELEASE_SQL = "UPDATE tidepool_jobs SET status = 'queued', locked_by = NULL, locked_at = NULL, " \
              "attempts = attempts - 1 WHERE locked_by = %s AND status = 'running'"


class Worker:
    """Runs jobs from ``config.queues`` until SIGTERM or SIGINT."""

    def __init__(self, queue: Queue, worker_id: str = None):
        self.queue, self.config = queue, queue.config
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self.force = False
        self.running = {}  # (job id, attempt) -> (Job, monotonic start time)
        self.last_poll = time.monotonic()

    def run(self) -> int:
        """Block until shut down; 0 on a clean exit, 1 if jobs had to be released."""
        cfg = self.config
        with self.queue.connect() as conn:
            self.queue.check_schema(conn)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        metrics.WORKER_INFO.set(1, version=__version__, worker_id=self.worker_id)
        metrics.start_server(cfg.metrics_port, healthy=self.healthy)
        targets = [self._fetch_loop] * cfg.concurrency + [self._housekeeping_loop]
        if cfg.scheduler and cfg.schedules:
            sched = Scheduler(self.queue, cfg.schedules, default_tz=cfg.timezone)
            targets.append(lambda: sched.run(self.stopping))
        for target in targets:
            threading.Thread(target=target, daemon=True).start()
        log.info("worker %s started: queues=%s concurrency=%d", self.worker_id,
                 ",".join(cfg.queues), cfg.concurrency)
        while not self.stopping.wait(1.0):
            pass
        deadline = time.monotonic() + cfg.shutdown_timeout
        while self.running and not self.force and time.monotonic() < deadline:
            time.sleep(0.2)
        if not self.running:
            log.info("worker %s stopped cleanly", self.worker_id)
            return 0
        with self.queue.connect() as conn:
            n = conn.execute(RELEASE_SQL, (self.worker_id,)).rowcount
        log.warning("shutdown timeout reached; released %d unfinished job(s) back to the queue", n)
        return 1

    def _on_signal(self, signum, _frame) -> None:
        name = signal.Signals(signum).name
        if self.stopping.is_set():
            log.warning("received second %s, exiting without waiting for jobs", name)
            self.force = True
        else:
            log.info("received %s, finishing %d running job(s) (up to %gs)", name,
                     len(self.running), self.config.shutdown_timeout)
            self.stopping.set()

    def healthy(self) -> bool:
        """False if idle threads have not polled for 3 x poll_interval + lock_timeout."""
        limit = 3 * self.config.poll_interval + self.config.lock_timeout
        return (len(self.running) >= self.config.concurrency
                or time.monotonic() - self.last_poll < limit)

    # -- fetch threads -------------------------------------------------------
    def _fetch_loop(self) -> None:
        with self.queue.connect() as conn:
            while not self.stopping.is_set():
                try:
                    job = self._claim(conn)
                except LockTimeout as exc:
                    log.warning("%s; retrying in %gs", retry.format_error(exc),
                                self.config.poll_interval)
                    job = None
                self.last_poll = time.monotonic()
                if job is None:
                    self.stopping.wait(self.config.poll_interval)
                else:
                    self._execute(conn, job)

    def _claim(self, conn):
        import psycopg

        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{int(self.config.lock_timeout * 1000)}ms'")
                row = conn.execute(CLAIM_SQL, {"worker": self.worker_id,
                                               "queues": list(self.config.queues)}).fetchone()
        except psycopg.errors.LockNotAvailable:
            raise LockTimeout(self.config.lock_timeout) from None
        if row is None:
            return None
        job = Job(*row)
        metrics.QUEUE_LATENCY.observe((job.started_at - job.run_at).total_seconds(),
                                      queue=job.queue)
        return job

    def _execute(self, conn, job: Job) -> None:
        labels = {"queue": job.queue, "task": job.task}
        metrics.JOBS_STARTED.inc(**labels)
        metrics.BUSY_THREADS.inc()
        key = (job.id, job.attempts)
        start = self.running[key] = (job, time.monotonic())
        try:
            task = self.queue.tasks.get(job.task)
            if task is None:
                raise UnknownTask(job.task)
            task.func(**job.args)
        except Exception as exc:  # noqa: BLE001 - any task error fails the attempt
            self._fail(conn, job, exc)
        else:
            if conn.execute(SUCCEED_SQL, self._owned(job)).rowcount:
                metrics.JOBS_SUCCEEDED.inc(**labels)
            else:
                log.warning("result of job %d discarded: lock lost (timed out or reaped)", job.id)
        finally:
            metrics.JOB_DURATION.observe(time.monotonic() - start[1], **labels)
            metrics.BUSY_THREADS.dec()
            self.running.pop(key, None)

    def _owned(self, job: Job, **extra) -> dict:
        return {"id": job.id, "worker": self.worker_id, "attempts": job.attempts, **extra}

    def _fail(self, conn, job: Job, exc: BaseException) -> None:
        labels = {"queue": job.queue, "task": job.task}
        task = self.queue.tasks.get(job.task)
        policy = retry.RetryPolicy.from_config(
            self.config, max_attempts=job.max_attempts,
            retry_on=task.defaults["retry_on"] if task else None)
        error = retry.format_error(exc)
        if policy.should_retry(job.attempts, exc):
            delay = policy.delay_for(job.attempts)
            if not conn.execute(RETRY_SQL, self._owned(job, error=error, delay=delay)).rowcount:
                log.warning("error of job %d discarded: lock lost (timed out or reaped)", job.id)
                return
            log.warning("job %d (%s) attempt %d/%d failed: %s; retrying in %.1fs", job.id,
                        job.task, job.attempts, job.max_attempts, error, delay)
        elif retry.move_to_dead_letters(conn, job.id, self.worker_id, error) is not None:
            metrics.JOBS_DEAD.inc(**labels)
            log.error("job %d (%s) moved to dead letters after %d attempt(s): %s",
                      job.id, job.task, job.attempts, error)
        else:
            return
        metrics.JOBS_FAILED.inc(**labels)

    # -- housekeeping ----------------------------------------------------------
    def _housekeeping_loop(self) -> None:
        """Heartbeats, timeouts, stale-lock reaping, pruning, queue-depth gauge."""
        cfg = self.config
        params = {"worker": self.worker_id, "after": cfg.stale_lock_after,
                  "retain": cfg.retain_succeeded}
        with self.queue.connect() as conn:
            while not self.stopping.wait(cfg.heartbeat_interval):
                for sql in HOUSEKEEPING_SQL:
                    conn.execute(sql, params)
                for job, started in list(self.running.values()):
                    task = self.queue.tasks.get(job.task)
                    limit = (task.defaults["timeout"] if task else None) or cfg.job_timeout
                    if time.monotonic() - started > limit:
                        # The thread keeps running the function; its result is discarded.
                        self._fail(conn, job, JobTimeout(job.id, job.task, limit))
                        self.running.pop((job.id, job.attempts), None)
                for q, counts in self.queue.stats(conn).items():
                    for status, n in counts.items():
                        metrics.QUEUE_DEPTH.set(n, queue=q, status=status)
