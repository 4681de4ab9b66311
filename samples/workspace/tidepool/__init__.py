"""Tidepool: a lightweight PostgreSQL-backed background job queue.

Usage::

    from tidepool import Queue

    queue = Queue()  # reads TIDEPOOL_* variables and ./tidepool.toml

    @queue.task(queue="emails", max_attempts=8)
    def send_welcome_email(user_id: int) -> None:
        ...

    send_welcome_email.enqueue(user_id=42)

Then run ``tidepool worker --app myapp.tasks:queue``. Jobs are rows in
``tidepool_jobs``, claimed with ``FOR UPDATE SKIP LOCKED``. See ``docs/``.
"""

__version__ = "0.9.2"

from .config import Config, ScheduleEntry, load_config  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    InvalidCronExpression,
    JobTimeout,
    LockTimeout,
    PermanentFailure,
    TidepoolError,
    UnknownTask,
)
from .queue import Job, Queue, Task  # noqa: E402
from .retry import RetryPolicy  # noqa: E402

__all__ = [
    "__version__",
    "Config",
    "ConfigError",
    "InvalidCronExpression",
    "Job",
    "JobTimeout",
    "LockTimeout",
    "PermanentFailure",
    "Queue",
    "RetryPolicy",
    "ScheduleEntry",
    "Task",
    "TidepoolError",
    "UnknownTask",
    "load_config",
]
