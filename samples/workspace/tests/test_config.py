"""Precedence: overrides > TIDEPOOL_* environment > tidepool.toml > defaults."""

import pytest

from tidepool.config import load_config, require_database_url
from tidepool.errors import ConfigError

TOML = """
[tidepool]
queues = ["default", "emails"]
concurrency = 8

[[schedule]]
name = "nightly-report"
cron = "0 2 * * *"
task = "myapp.tasks.nightly_report"
"""


@pytest.fixture
def toml_file(tmp_path):
    path = tmp_path / "tidepool.toml"
    path.write_text(TOML)
    return str(path)


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./tidepool.toml
    cfg = load_config(env={})
    assert cfg.queues == ["default"]
    assert (cfg.concurrency, cfg.poll_interval, cfg.lock_timeout) == (4, 1.0, 5.0)
    assert (cfg.max_attempts, cfg.backoff_base, cfg.backoff_max) == (5, 2.0, 3600.0)
    assert (cfg.dashboard_port, cfg.metrics_port, cfg.shutdown_timeout) == (8787, 9464, 30.0)


def test_precedence(toml_file):
    assert load_config(toml_file, env={}).concurrency == 8
    env = {"TIDEPOOL_CONCURRENCY": "16", "TIDEPOOL_QUEUES": "emails, reports"}
    cfg = load_config(toml_file, env=env)
    assert cfg.concurrency == 16 and cfg.sources["concurrency"] == "env"
    assert cfg.queues == ["emails", "reports"]
    cfg = load_config(toml_file, env=env, overrides={"concurrency": 2})
    assert cfg.concurrency == 2 and cfg.sources["concurrency"] == "override"


def test_schedules_and_bools(toml_file):
    cfg = load_config(toml_file, env={"TIDEPOOL_SCHEDULER": "off"})
    assert cfg.scheduler is False and cfg.schedules[0].queue == "default"


def test_database_url_fallback_and_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={"DATABASE_URL": "postgresql://h/db"})
    assert cfg.database_url == "postgresql://h/db"
    with pytest.raises(ConfigError, match="TIDEPOOL_DATABASE_URL is not set"):
        require_database_url(load_config(env={}))


def test_invalid_values(toml_file):
    with pytest.raises(ConfigError) as info:
        load_config(toml_file, env={"TIDEPOOL_SHUTDOWN_TIMEOUT": "30s"})
    assert str(info.value) == (
        "invalid value for TIDEPOOL_SHUTDOWN_TIMEOUT: '30s' (expected number)")
    with pytest.raises(ConfigError, match="config file not found: /nope.toml"):
        load_config(env={"TIDEPOOL_CONFIG": "/nope.toml"})
