"""Exceptions raised by Tidepool; messages are listed in docs/troubleshooting.md."""

from __future__ import annotations


class TidepoolError(Exception):
    """Base class for all Tidepool errors."""


class ConfigError(TidepoolError):
    """Missing or invalid configuration (CLI exit status 2)."""


class SchemaMissing(TidepoolError):
    """The Tidepool tables do not exist (CLI exit status 3)."""

    def __init__(self, table: str = "tidepool_jobs") -> None:
        super().__init__(f'relation "{table}" does not exist - run `tidepool migrate` first')


class SchemaVersionMismatch(TidepoolError):
    """The database schema is older than this library needs (CLI exit status 3)."""

    def __init__(self, found: int, required: int) -> None:
        self.found, self.required = found, required
        super().__init__(f"database schema version {found} is older than required "
                         f"version {required}; run `tidepool migrate`")


class LockTimeout(TidepoolError):
    """The claim query waited longer than ``lock_timeout`` for a table lock."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"could not acquire job lock within {seconds:g}s")


class JobTimeout(TidepoolError):
    """An attempt ran longer than its timeout (default ``job_timeout``)."""

    def __init__(self, job_id: int, task: str, seconds: float) -> None:
        super().__init__(f"job {job_id} ({task}) exceeded job_timeout of {seconds:g}s")


class UnknownTask(TidepoolError):
    """A job names a task that this worker has not registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no task registered under name '{name}'")


class DuplicateTask(TidepoolError):
    """Two functions were registered under the same task name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"task '{name}' is already registered")


class SerializationError(TidepoolError):
    """Task arguments are not JSON-serializable; nothing was enqueued."""

    def __init__(self, task: str, reason: str) -> None:
        super().__init__(f"arguments for task '{task}' are not JSON-serializable: {reason}")


class InvalidCronExpression(TidepoolError):
    """A schedule's ``cron`` string could not be parsed."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"invalid cron expression '{expression}': {reason}")


class PermanentFailure(TidepoolError):
    """Raise from a task to dead-letter the job at once, skipping remaining retries."""
