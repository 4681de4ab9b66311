"""The ``tidepool`` command line.

Exit codes: 0 success; 1 runtime error, or a worker that released unfinished
jobs at shutdown; 2 configuration error; 3 schema missing or outdated.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

from . import __version__
from .config import load_config
from .errors import ConfigError, SchemaMissing, SchemaVersionMismatch, TidepoolError
from .queue import Queue


def load_app(spec, cfg) -> Queue:
    """Import ``module:attribute`` (attribute defaults to ``queue``) and apply ``cfg``."""
    if not spec:
        raise ConfigError("no app configured: pass --app module:attribute or set TIDEPOOL_APP")
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"could not import app module '{module_name}': {exc}") from None
    queue = getattr(module, attr or "queue", None)
    if not isinstance(queue, Queue):
        raise ConfigError(f"'{spec}' is not a tidepool.Queue instance")
    queue.config = cfg
    return queue


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tidepool", description="PostgreSQL-backed job queue")
    p.add_argument("--version", action="version", version=f"tidepool {__version__}")
    p.add_argument("--config", metavar="PATH")
    p.add_argument("--log-level")
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="run jobs until SIGTERM")
    w.add_argument("--app", help="module:attribute of your tidepool.Queue")
    w.add_argument("--queues")
    w.add_argument("--concurrency", type=int)
    w.add_argument("--no-scheduler", dest="scheduler", action="store_const", const=False)
    sub.add_parser("migrate").add_argument("--dry-run", action="store_true")
    e = sub.add_parser("enqueue")
    e.add_argument("task")
    e.add_argument("--args", default="{}", help="JSON object of keyword arguments")
    e.add_argument("--queue", default="default")
    e.add_argument("--priority", type=int, default=0)
    e.add_argument("--delay", type=float, default=0)
    e.add_argument("--unique-key")
    sub.add_parser("status")
    sub.add_parser("check-config")
    dead = sub.add_parser("dead").add_subparsers(dest="dead_command", required=True)
    dead.add_parser("list").add_argument("--limit", type=int, default=50)
    dead.add_parser("retry").add_argument("ids", nargs="+", type=int, metavar="ID")
    dead.add_parser("purge").add_argument("--older-than", type=int, required=True,
                                          metavar="DAYS")
    sub.add_parser("schedule").add_argument("action", choices=["list"])
    d = sub.add_parser("dashboard")
    d.add_argument("--host")
    d.add_argument("--port", type=int)
    return p


def run(args) -> int:
    names = ("app", "queues", "concurrency", "scheduler", "log_level")
    overrides = {k: getattr(args, k, None) for k in names}
    overrides.update(dashboard_host=getattr(args, "host", None),
                     dashboard_port=getattr(args, "port", None))
    cfg = load_config(path=args.config, overrides=overrides)
    logging.basicConfig(level=cfg.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "check-config":
        for key, source in cfg.sources.items():
            value = getattr(cfg, key)
            if key in ("database_url", "dashboard_token") and value:
                value = "***"
            print(f"{key:20} {value!s:40} ({source})")
        return 0
    if args.command == "worker":
        from .worker import Worker

        return Worker(load_app(cfg.app, cfg)).run()
    queue = load_app(cfg.app, cfg) if cfg.app else Queue(config=cfg)
    if args.command not in ("migrate", "schedule"):
        with queue.connect() as conn:
            queue.check_schema(conn)
    if args.command == "migrate":
        done = queue.migrate(dry_run=args.dry_run)
        verb = "pending" if args.dry_run else "applied"
        print(f"{verb} migrations: {', '.join(map(str, done))}" if done else "schema is up to date")
    elif args.command == "enqueue":
        job_id = queue.enqueue(args.task, json.loads(args.args), queue=args.queue,
                               priority=args.priority, delay=args.delay,
                               unique_key=args.unique_key)
        print(job_id if job_id is not None else "skipped: a job with this unique key is pending")
    elif args.command == "status":
        print(f"{'QUEUE':16}{'QUEUED':>8}{'SCHED':>8}{'RUNNING':>9}{'DONE':>8}{'DEAD':>7}")
        for name, c in sorted(queue.stats().items()):
            print(f"{name:16}{c['queued']:>8}{c['scheduled']:>8}{c['running']:>9}"
                  f"{c['succeeded']:>8}{c['dead']:>7}")
    elif args.command == "dead":
        return _dead(queue, args)
    elif args.command == "schedule":
        from .scheduler import Scheduler

        for entry, fire in Scheduler(queue, cfg.schedules, cfg.timezone).upcoming():
            tz = entry.timezone or cfg.timezone
            print(f"{entry.name:24} {entry.cron:16} {tz:18} next: {fire.isoformat()}")
    elif args.command == "dashboard":
        from .dashboard import serve

        serve(queue)
    return 0


def _dead(queue: Queue, args) -> int:
    if args.dead_command == "list":
        for d in queue.dead_letters(limit=args.limit):
            print(f"{d['id']:>6}  {d['failed_at'][:19]}  {d['queue']:12} {d['task']:32} "
                  f"attempts={d['attempts']}  {(d['last_error'] or '')[:60]}")
        return 0
    if args.dead_command == "purge":
        from .retry import purge_dead

        with queue.connect() as conn:
            n = purge_dead(conn, args.older_than)
        print(f"purged {n} dead letter(s) older than {args.older_than} day(s)")
        return 0
    new_ids = [queue.retry_dead(dead_id) for dead_id in args.ids]
    for dead_id, job_id in zip(args.ids, new_ids):
        print(f"dead letter {dead_id} -> job {job_id}" if job_id else
              f"dead letter {dead_id} not found")
    return 0 if all(new_ids) else 1


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except ConfigError as exc:
        print(f"tidepool: configuration error: {exc}", file=sys.stderr)
        return 2
    except (SchemaMissing, SchemaVersionMismatch) as exc:
        print(f"tidepool: {exc}", file=sys.stderr)
        return 3
    except TidepoolError as exc:
        print(f"tidepool: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
