"""Schema migrations. Version 1: 0.6.0, 2: 0.7.0, 3: 0.8.0, 4: 0.9.0."""

from __future__ import annotations

from typing import List

from .errors import SchemaMissing, SchemaVersionMismatch

SCHEMA_VERSION = 4
MIGRATION_LOCK_KEY = 0x74696466
MIGRATIONS = {
    1: """
    CREATE TABLE tidepool_schema (version integer NOT NULL);
    INSERT INTO tidepool_schema VALUES (0);
    CREATE TABLE tidepool_jobs (
        id           bigserial PRIMARY KEY,
        queue        text        NOT NULL DEFAULT 'default',
        task         text        NOT NULL,
        args         jsonb       NOT NULL DEFAULT '{}',
        status       text        NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded')),
        priority     smallint    NOT NULL DEFAULT 0,
        attempts     integer     NOT NULL DEFAULT 0,
        max_attempts integer     NOT NULL DEFAULT 5,
        run_at       timestamptz NOT NULL DEFAULT now(),
        locked_by    text,
        locked_at    timestamptz,
        last_error   text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        finished_at  timestamptz
    );
    CREATE INDEX tidepool_jobs_fetch_idx ON tidepool_jobs (queue, priority DESC, run_at, id)
        WHERE status = 'queued';
    """,
    2: """
    CREATE TABLE tidepool_dead_letters (
        id         bigserial   PRIMARY KEY,
        job_id     bigint      NOT NULL,
        queue      text        NOT NULL,
        task       text        NOT NULL,
        args       jsonb       NOT NULL,
        attempts   integer     NOT NULL,
        last_error text,
        created_at timestamptz NOT NULL,
        failed_at  timestamptz NOT NULL DEFAULT now()
    );
    """,
    3: """
    ALTER TABLE tidepool_jobs ADD COLUMN unique_key text;
    CREATE UNIQUE INDEX tidepool_jobs_unique_key_idx ON tidepool_jobs (unique_key)
        WHERE status IN ('queued', 'running');
    """,
    4: """
    ALTER TABLE tidepool_jobs ADD COLUMN started_at timestamptz;
    CREATE INDEX tidepool_jobs_running_idx ON tidepool_jobs (locked_at)
        WHERE status = 'running';
    """,
}


def schema_version(conn) -> int:
    """The applied schema version, or 0 if Tidepool was never migrated."""
    if conn.execute("SELECT to_regclass('tidepool_schema')").fetchone()[0] is None:
        return 0
    return conn.execute("SELECT version FROM tidepool_schema").fetchone()[0]


def check_schema(conn) -> None:
    """Raise :class:`SchemaMissing` or :class:`SchemaVersionMismatch` if behind."""
    found = schema_version(conn)
    if found == 0:
        raise SchemaMissing()
    if found < SCHEMA_VERSION:
        raise SchemaVersionMismatch(found, SCHEMA_VERSION)


def migrate(conn, dry_run: bool = False) -> List[int]:
    """Apply pending migrations in one transaction on a non-autocommit ``conn``.

    ``pg_advisory_xact_lock`` serialises concurrent runs (e.g. one per pod).
    """
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
    pending = [v for v in sorted(MIGRATIONS) if v > schema_version(conn)]
    if dry_run:
        conn.rollback()
        return pending
    for version in pending:
        conn.execute(MIGRATIONS[version])
        conn.execute("UPDATE tidepool_schema SET version = %s", (version,))
    conn.commit()
    return pending
