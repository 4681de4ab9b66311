"""Configuration loading.

Precedence, highest first: explicit overrides (CLI flags), environment
variables ``TIDEPOOL_<KEY>``, the ``[tidepool]`` table of the TOML file named
by ``TIDEPOOL_CONFIG`` (default ``./tidepool.toml``), built-in defaults.
Cron schedules are read only from ``[[schedule]]`` tables in the TOML file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Optional

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

from .errors import ConfigError


@dataclass(frozen=True)
class ScheduleEntry:
    """One ``[[schedule]]`` table."""

    name: str
    cron: str
    task: str
    args: dict = field(default_factory=dict)
    queue: str = "default"
    timezone: Optional[str] = None  # None: use Config.timezone


@dataclass
class Config:
    """Effective settings; documented in ``docs/configuration.md``."""

    database_url: Optional[str] = None
    app: Optional[str] = None
    queues: list = field(default_factory=lambda: ["default"])
    concurrency: int = 4
    poll_interval: float = 1.0
    lock_timeout: float = 5.0
    job_timeout: float = 300.0
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_max: float = 3600.0
    backoff_jitter: float = 0.2
    shutdown_timeout: float = 30.0
    heartbeat_interval: float = 15.0
    stale_lock_after: float = 120.0
    retain_succeeded: float = 86400.0
    scheduler: bool = True
    timezone: str = "UTC"
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8787
    dashboard_token: Optional[str] = None
    metrics_port: int = 9464
    log_level: str = "INFO"
    schedules: list = field(default_factory=list)
    sources: dict = field(default_factory=dict, repr=False)


KEYS = [f.name for f in fields(Config) if f.name not in ("schedules", "sources")]
_TYPES = {k: type(getattr(Config(), k)) for k in KEYS}
_OPTIONAL = {"database_url", "app", "dashboard_token"}
_BOOLS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}


def _coerce(key: str, raw, origin: str):
    kind = _TYPES[key]
    try:
        if key in _OPTIONAL:
            return str(raw) or None
        if kind is list:
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return [str(i).strip() for i in items if str(i).strip()]
        if kind is bool:
            return raw if isinstance(raw, bool) else _BOOLS[str(raw).strip().lower()]
        return kind(raw)
    except (TypeError, ValueError, KeyError):
        expected = {int: "integer", float: "number", bool: "boolean"}[kind]
        raise ConfigError(f"invalid value for {origin}: {raw!r} (expected {expected})") from None


def load_config(path=None, env=None, overrides=None) -> Config:
    """Build a :class:`Config`; ``cfg.sources`` says where each value came from."""
    env = os.environ if env is None else env
    explicit = path is not None or "TIDEPOOL_CONFIG" in env
    path = path or env.get("TIDEPOOL_CONFIG", "tidepool.toml")
    doc = {}
    if os.path.exists(path):
        with open(path, "rb") as fh:
            try:
                doc = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"could not parse {path}: {exc}") from None
    elif explicit:
        raise ConfigError(f"config file not found: {path}")

    cfg, table = Config(), doc.get("tidepool", {})
    for key in KEYS:
        cfg.sources[key] = "default"
        layers = [(table.get(key), "toml", f"{key} in {path}"),
                  (env.get("TIDEPOOL_" + key.upper()) or None, "env", "TIDEPOOL_" + key.upper()),
                  ((overrides or {}).get(key), "override", "--" + key.replace("_", "-"))]
        for raw, source, origin in layers:
            if raw is not None:
                setattr(cfg, key, _coerce(key, raw, origin))
                cfg.sources[key] = source
    if cfg.database_url is None and env.get("DATABASE_URL"):
        cfg.database_url = env["DATABASE_URL"]
        cfg.sources["database_url"] = "env (DATABASE_URL)"
    for entry in doc.get("schedule", []):
        missing = [k for k in ("name", "cron", "task") if k not in entry]
        if missing:
            raise ConfigError(f"[[schedule]] in {path} is missing {', '.join(missing)}")
        cfg.schedules.append(ScheduleEntry(**entry))
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Reject values that can never work."""
    if cfg.concurrency < 1 or cfg.max_attempts < 1:
        raise ConfigError("concurrency and max_attempts must be at least 1")
    if not 0.0 <= cfg.backoff_jitter <= 1.0:
        raise ConfigError("backoff_jitter must be between 0.0 and 1.0")
    if not cfg.queues:
        raise ConfigError("queues must name at least one queue")
    if cfg.stale_lock_after <= 2 * cfg.heartbeat_interval:
        raise ConfigError("stale_lock_after must be more than twice heartbeat_interval")


def require_database_url(cfg: Config) -> str:
    if not cfg.database_url:
        raise ConfigError(
            "TIDEPOOL_DATABASE_URL is not set (and no database_url in tidepool.toml)")
    return cfg.database_url
