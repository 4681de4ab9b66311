"""The real trainer server as a subprocess, for tests that speak the protocol to it."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from specialize_trainer.rpc.framing import MessageReader, encode_message

TRAINER_DIR = Path(__file__).resolve().parents[1]


class ServerProcess:
    """``python -m specialize_trainer.rpc.server`` as a subprocess; a thread collects everything it sends.

    ``launcher`` replaces the plain ``python`` (e.g. ``python -m torch.distributed.run --nproc_per_node 2``).
    Messages taken by :meth:`next_message` / :meth:`wait_for` are also kept in ``seen``.
    """

    def __init__(
        self, launcher: list[str] | None = None, stderr_path: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        # The trainer first, then whatever the test run's own path holds (packages installed with --target).
        python_path = os.pathsep.join(filter(None, [str(TRAINER_DIR), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1", **(env or {})}
        # A stderr file made here is removed by close(); one the test names is the test's to keep.
        self._owns_stderr = stderr_path is None
        if stderr_path is None:
            handle, name = tempfile.mkstemp(prefix="trainer-", suffix=".stderr")
            os.close(handle)
            stderr_path = Path(name)
        self.stderr_path = stderr_path
        # stderr to a file: nothing drains a pipe, and a full one (model loading bars) would block the server.
        with open(stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [*(launcher or [sys.executable]), "-m", "specialize_trainer.rpc.server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        self.messages: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        self._responses: dict[int, dict] = {}
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        reader = MessageReader(self.process.stdout)
        while (message := reader.read()) is not None:
            self.messages.put(message)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def send(self, message: dict) -> None:
        self.process.stdin.write(encode_message({"jsonrpc": "2.0", **message}))
        self.process.stdin.flush()

    def request(self, method: str, params: dict | None = None) -> int:
        self._next_id += 1
        self.send({"id": self._next_id, "method": method, **({} if params is None else {"params": params})})
        return self._next_id

    def next_message(self, timeout: float = 30) -> dict:
        try:
            message = self.messages.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise AssertionError(
                f"no message from the server within {timeout:.0f} s (exit code {self.process.poll()}); "
                f"stderr: {self.stderr[-2000:]}"
            ) from None
        self.seen.append(message)
        return message

    def wait_for(self, predicate, timeout: float = 300) -> dict:
        """The first message (notification or response) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next_message(deadline - time.monotonic())
            if predicate(message):
                return message

    def response(self, request_id: int, timeout: float = 30) -> dict:
        """The response to ``request_id``; notifications are skipped, other responses kept for later."""
        deadline = time.monotonic() + timeout
        while request_id not in self._responses:
            message = self.next_message(deadline - time.monotonic())
            if "method" not in message:
                self._responses[message.get("id")] = message
        return self._responses.pop(request_id)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)
        self._reader.join(30)  # it ends at the end of stdout, before the stream is closed under it
        self.process.stdin.close()
        self.process.stdout.close()
        if self._owns_stderr:
            self.stderr_path.unlink(missing_ok=True)
