"""The trainer process: a JSON-RPC 2.0 server on stdin/stdout for Specialize's TypeScript client.

Requests run on worker threads so the main thread keeps reading; ``$/cancelRequest`` sets the
request's :class:`CancelToken`, which handlers check between batches (``token.raise_if_cancelled()``),
and the request then fails with code -32800. Progress and log records reach the client as
``progress`` and ``log`` notifications; stdout carries nothing but protocol.

Methods are registered on a :class:`Server`::

    def score(params: dict, ctx: RequestContext) -> dict:
        for step, batch in enumerate(batches):
            ctx.token.raise_if_cancelled()
            ...
            ctx.progress("score", step + 1, len(batches), throughput=rate, throughput_unit="pairs")
        return {"scored": n}

    server.register("teacher/score", score)

Besides the protocol's methods, ``debug/sleep`` (sleeps in steps, reporting progress and honouring
cancellation) and ``debug/crash`` (exits at once with code 3) exist for tests and diagnostics: they
let the client's cancellation, progress and crash recovery be checked against the real process.

Example::

    python -m specialize_trainer.rpc.server   # then speak Content-Length framed JSON-RPC on stdio
"""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.metadata
import json
import logging
import math
import os
import platform
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specialize_trainer import __version__
from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.framing import FramingError, MessageReader, MessageWriter, take_stdout_for_protocol
from specialize_trainer.rpc.protocol import (
    InitializeResult,
    InvalidParams,
    NotImplementedYet,
    Problem,
    RequestCancelled,
    RpcError,
)

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], "RequestContext"], Any]

# How long shutdown and exit wait for cancelled requests to stop before going anyway.
STOP_GRACE_SECONDS = 10.0
EXIT_GRACE_SECONDS = 2.0


# A write that fails for lack of space: a full disk, a quota, or a file-size limit (RLIMIT_FSIZE).
_OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def out_of_space(error: BaseException) -> OSError | None:
    """The ``OSError`` behind ``error`` that says the disk is full, if any.

    Libraries wrap it: ``torch.save`` to a Python file object raises a ``RuntimeError`` whose
    ``__context__`` is the ``OSError``, so the whole cause/context chain is searched.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _OUT_OF_SPACE:
            return current
        current = current.__cause__ or current.__context__
    return None


def disk_full_problem(method: str, error: OSError) -> Problem:
    where = f" writing {error.filename}" if error.filename else ""
    return Problem(
        f"The disk is full: {method} could not finish{where} ({error.strerror or error})",
        "Free space on the disk that holds the run folder (or raise the quota / file-size limit) and run the "
        "same command again: finished stages and the last checkpoint are kept, and the run resumes.",
    )


class CancelToken:
    """Set when the client cancels a request; handlers check it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "Request cancelled"

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "Request cancelled") -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise RequestCancelled(self.reason)

    def sleep(self, seconds: float) -> None:
        """Waits ``seconds``, or raises :class:`RequestCancelled` as soon as the request is cancelled."""
        if self._event.wait(max(0.0, seconds)):
            raise RequestCancelled(self.reason)


@dataclass
class RequestContext:
    """What a handler gets besides its params: the request's identity, cancel token and notifiers."""

    server: Server
    id: int | str
    method: str
    token: CancelToken = field(default_factory=CancelToken)

    def progress(
        self,
        stage: str,
        step: int,
        total: int,
        *,
        loss: dict[str, float] | None = None,
        lr: float | None = None,
        throughput: float | None = None,
        throughput_unit: str | None = None,
        eta_seconds: float | None = None,
        message: str | None = None,
    ) -> None:
        params: protocol.ProgressParams = {
            "request_id": self.id,
            "method": self.method,
            "stage": stage,
            "step": int(step),
            "total": int(total),
        }
        if loss is not None:
            params["loss"] = {name: _finite(value) for name, value in loss.items()}
        if lr is not None:
            params["lr"] = _finite(lr)
        if throughput is not None:
            params["throughput"] = _finite(throughput)
        if throughput_unit is not None:
            params["throughput_unit"] = throughput_unit
        if eta_seconds is not None:
            params["eta_seconds"] = _finite(eta_seconds)
        if message is not None:
            params["message"] = message
        self.server.notify(protocol.PROGRESS, params)


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity (a diverging loss is one); they travel as null."""
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class _InFlight:
    context: RequestContext
    thread: threading.Thread


class Server:
    """Reads framed JSON-RPC messages, runs each request's handler on its own thread, writes replies."""

    def __init__(self, reader: MessageReader, writer: MessageWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._handlers: dict[str, Handler] = {}
        self._in_flight: dict[int | str, _InFlight] = {}
        self._lock = threading.Lock()
        self.shutdown_requested = False
        self._exit_received = False

    def register(self, method: str, handler: Handler) -> None:
        self._handlers[method] = handler

    @property
    def methods(self) -> list[str]:
        return sorted(self._handlers)

    def notify(self, method: str, params: Any) -> None:
        """Sends a notification; a client that has gone away is not an error (stdin will end soon)."""
        try:
            self._writer.write({"jsonrpc": "2.0", "method": method, "params": params})
        except OSError:
            pass

    def serve(self) -> int:
        """Runs until ``exit`` or the end of stdin; returns the process exit code (0 after a shutdown)."""
        while not self._exit_received:
            try:
                body = self._reader.read_body()
            except FramingError as error:
                logger.error("Unreadable message stream, stopping: %s", error)
                break
            if body is None:
                break
            try:
                message = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as error:
                self._send_error(None, protocol.PARSE_ERROR, f"Message is not valid UTF-8 JSON: {error}")
                continue
            self._dispatch(message)
        self.stop_in_flight("The trainer is exiting", EXIT_GRACE_SECONDS)
        return 0 if self.shutdown_requested else 1

    def in_flight_alive(self) -> bool:
        with self._lock:
            return any(entry.thread.is_alive() for entry in self._in_flight.values())

    def _dispatch(self, message: Any) -> None:
        if isinstance(message, list):
            self._send_error(None, protocol.INVALID_REQUEST, "Batch messages are not supported")
            return
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self._send_error(None, protocol.INVALID_REQUEST, "Not a JSON-RPC 2.0 message")
            return
        method = message.get("method")
        if not isinstance(method, str):
            # A response: this server sends no requests, so there is nothing waiting for one.
            return
        if "id" not in message:
            self._on_notification(method, message.get("params"))
            return
        request_id = message["id"]
        if not isinstance(request_id, (int, str)) or isinstance(request_id, bool):
            self._send_error(None, protocol.INVALID_REQUEST, "Request id must be a number or a string")
            return
        self._on_request(request_id, method, message.get("params"))

    def _on_notification(self, method: str, params: Any) -> None:
        if method == protocol.CANCEL_REQUEST:
            request_id = params.get("id") if isinstance(params, dict) else None
            with self._lock:
                entry = self._in_flight.get(request_id) if isinstance(request_id, (int, str)) else None
            if entry is not None:
                entry.context.token.cancel()
        elif method == protocol.EXIT:
            self._exit_received = True
        # Other notifications (including unknown $/ ones) are ignored, as JSON-RPC allows.

    def _on_request(self, request_id: int | str, method: str, params: Any) -> None:
        if self.shutdown_requested:
            self._send_error(request_id, protocol.SHUTTING_DOWN, f"The trainer is shutting down; {method} was not run")
            return
        if method == protocol.SHUTDOWN:
            # Set here, on the reading thread, so requests that follow are refused in order.
            self.shutdown_requested = True
        handler = self._handlers.get(method)
        if handler is None:
            self._send_error(request_id, protocol.METHOD_NOT_FOUND, f"Unknown method {method!r}")
            return
        if params is None:
            params = {}
        if not isinstance(params, dict):
            self._send_error(request_id, protocol.INVALID_PARAMS, f"{method} takes named params (an object)")
            return
        context = RequestContext(server=self, id=request_id, method=method)
        thread = threading.Thread(
            target=self._run, args=(handler, params, context), name=f"rpc-{method}-{request_id}", daemon=True
        )
        with self._lock:
            if request_id in self._in_flight:
                self._send_error(request_id, protocol.INVALID_REQUEST, f"Request id {request_id!r} is already running")
                return
            self._in_flight[request_id] = _InFlight(context, thread)
        thread.start()

    def _run(self, handler: Handler, params: dict[str, Any], context: RequestContext) -> None:
        try:
            try:
                result = handler(params, context)
            except RpcError as error:
                self._send_error(context.id, error.code, error.message, error.data)
                return
            except Exception as error:
                full = out_of_space(error)
                if full is not None:
                    problem = disk_full_problem(context.method, full)
                    self._send_error(context.id, problem.code, problem.message, problem.data)
                    return
                logger.exception("%s failed", context.method)
                data = {"exception": type(error).__name__, "traceback": traceback.format_exc()}
                self._send_error(context.id, protocol.INTERNAL_ERROR, f"{type(error).__name__}: {error}", data)
                return
            try:
                self._writer.write({"jsonrpc": "2.0", "id": context.id, "result": result})
            except (TypeError, ValueError) as error:
                message = f"{context.method} returned a result that is not JSON: {error}"
                self._send_error(context.id, protocol.INTERNAL_ERROR, message)
            except OSError:
                pass
        finally:
            with self._lock:
                self._in_flight.pop(context.id, None)

    def _send_error(self, request_id: int | str | None, code: int, message: str, data: Any = None) -> None:
        error: protocol.ErrorObject = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        try:
            self._writer.write({"jsonrpc": "2.0", "id": request_id, "error": error})
        except (TypeError, ValueError):
            self._writer.write({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})
        except OSError:
            pass

    def stop_in_flight(self, reason: str, grace_seconds: float, keep: int | str | None = None) -> None:
        """Cancels every running request except ``keep`` and waits up to ``grace_seconds`` for them."""
        with self._lock:
            entries = [entry for request_id, entry in self._in_flight.items() if request_id != keep]
        for entry in entries:
            entry.context.token.cancel(reason)
        deadline = time.monotonic() + grace_seconds
        for entry in entries:
            entry.thread.join(max(0.0, deadline - time.monotonic()))


_LEVELS: dict[int, Any] = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


class NotificationLogHandler(logging.Handler):
    """Forwards log records to the client as ``log`` notifications."""

    def __init__(self, server: Server, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._server = server

    def emit(self, record: logging.LogRecord) -> None:
        try:
            params: protocol.LogParams = {
                "level": _LEVELS.get(record.levelno, "info"),
                "logger": record.name,
                "message": self.format(record),
                "time": record.created,
            }
            self._server.notify(protocol.LOG, params)
        except Exception:
            self.handleError(record)


# ---------------------------------------------------------------------------------------------------
# Handlers


def initialize(params: dict[str, Any], ctx: RequestContext) -> InitializeResult:
    """What the client (and ``specialize doctor``) needs to know about this process and its device."""
    import torch  # imported here so that the server starts answering at once

    cuda_available = bool(torch.cuda.is_available())
    device: protocol.DeviceInfo
    if cuda_available:
        index = torch.cuda.current_device()
        properties = torch.cuda.get_device_properties(index)
        device = {
            "type": "cuda",
            "name": str(properties.name),
            "total_memory_bytes": int(properties.total_memory),
            "bf16": bool(torch.cuda.is_bf16_supported()),
        }
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = {
            "type": "mps",
            "name": "Apple GPU (MPS)",
            "total_memory_bytes": _system_memory(),
            "bf16": _mps_bf16(),
        }
    else:
        device = {"type": "cpu", "name": _cpu_name(), "total_memory_bytes": _system_memory(), "bf16": _cpu_bf16()}
    return {
        "server": protocol.SERVER_NAME,
        "protocol_version": protocol.PROTOCOL_VERSION,
        "pid": os.getpid(),
        "python": {"executable": sys.executable, "version": platform.python_version()},
        "torch": {"version": str(torch.__version__), "threads": int(torch.get_num_threads())},
        "cuda": {
            "available": cuda_available,
            "version": torch.version.cuda,
            "device_count": int(torch.cuda.device_count()) if cuda_available else 0,
        },
        "device": device,
        "packages": {
            "specialize_trainer": __version__,
            "transformers": _package_version("transformers"),
            "sentence_transformers": _package_version("sentence-transformers"),
        },
        "methods": [m for m in ctx.server.methods if m not in _NOT_ADVERTISED],
    }


def shutdown(params: dict[str, Any], ctx: RequestContext) -> None:
    """Cancels running requests and waits for them to stop; the client then sends ``exit``."""
    ctx.server.stop_in_flight("The trainer is shutting down", STOP_GRACE_SECONDS, keep=ctx.id)
    return None


def not_implemented_yet(method: str) -> Handler:
    def handler(params: dict[str, Any], ctx: RequestContext) -> Any:
        raise NotImplementedYet(
            f"{method} is not implemented yet in this trainer (protocol {protocol.PROTOCOL_VERSION}); "
            "it arrives with the training loop",
            {"method": method},
        )

    return handler


def debug_sleep(params: dict[str, Any], ctx: RequestContext) -> protocol.DebugSleepResult:
    """Test and diagnostics only: sleeps ``seconds`` in ``steps`` equal steps, reporting progress after
    each and stopping within a step when cancelled. The reported loss and lr are synthetic
    (``1 / step`` and 0), there to exercise every progress field."""
    seconds = _number_param(params, "seconds", 1.0, 0.0, 3600.0)
    steps = int(_number_param(params, "steps", 10, 1, 100_000, integer=True))
    per_step = seconds / steps
    start = time.monotonic()
    for step in range(1, steps + 1):
        ctx.token.sleep(per_step)
        elapsed = time.monotonic() - start
        ctx.progress(
            "debug/sleep",
            step,
            steps,
            loss={"debug": 1.0 / step},
            lr=0.0,
            throughput=step / elapsed if elapsed > 0 else None,
            throughput_unit="steps",
            eta_seconds=per_step * (steps - step),
        )
    return {"steps_done": steps, "seconds": time.monotonic() - start}


def debug_crash(params: dict[str, Any], ctx: RequestContext) -> None:
    """Test and diagnostics only: the process dies at once (exit code 3) without answering."""
    sys.stderr.write("debug/crash: exiting with code 3 as asked\n")
    sys.stderr.flush()
    os._exit(3)


_NOT_ADVERTISED = {
    protocol.DEBUG_SLEEP,
    protocol.DEBUG_CRASH,
}


def register_default_handlers(server: Server) -> None:
    server.register(protocol.INITIALIZE, initialize)
    server.register(protocol.SHUTDOWN, shutdown)
    # Imported on first use: these modules pull in sentence-transformers (seconds of imports), which
    # the handshake and diagnostics do not need, and a slow start delays every client.
    server.register(protocol.TEACHER_SCORE, _lazy_handler("specialize_trainer.teacher", "teacher_score"))
    server.register(protocol.TRAIN_RUN, _lazy_handler("specialize_trainer.training", "train_run"))
    server.register(protocol.MODEL_EXPORT, _lazy_handler("specialize_trainer.export", "model_export"))
    server.register(protocol.DEBUG_SLEEP, debug_sleep)
    server.register(protocol.DEBUG_CRASH, debug_crash)


def _lazy_handler(module: str, name: str) -> Callable[[dict[str, Any], RequestContext], Any]:
    def handler(params: dict[str, Any], ctx: RequestContext) -> Any:
        return getattr(importlib.import_module(module), name)(params, ctx)

    handler.__name__ = name
    return handler


def _number_param(
    params: dict[str, Any], name: str, default: float, low: float, high: float, integer: bool = False
) -> float:
    value = params.get(name, default)
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if valid and integer:
        valid = float(value).is_integer()
    if not valid or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise InvalidParams(f"{name} must be {kind} from {low:g} to {high:g}, got {value!r}")
    return value


def _launched_by_torchrun() -> bool:
    # Read here rather than from specialize_trainer.distributed, which imports torch (seconds) at start-up.
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def _cpu_name() -> str:
    for line in _cpuinfo().splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def _cpu_bf16() -> bool:
    """Native bf16 instructions: AVX512-BF16 or AMX on x86, the BF16 extension on Arm (Linux)."""
    flags: set[str] = set()
    for line in _cpuinfo().splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


def _mps_bf16() -> bool:
    import torch

    try:
        torch.ones(1, dtype=torch.bfloat16, device="mps")
        return True
    except (RuntimeError, TypeError):
        return False


def _system_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    # The client owns the lifecycle: Ctrl-C in its terminal cancels requests through the protocol,
    # and a client that dies closes stdin, which ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol_out = take_stdout_for_protocol()
    world = None
    if _launched_by_torchrun():
        from specialize_trainer import distributed, training

        world = distributed.join()
        if not world.is_main:
            # Only rank 0 talks to the client; the others take its train/run requests over the process group.
            logging.basicConfig(level=logging.INFO, format=f"[rank {world.rank}] %(message)s", stream=sys.stderr)
            return distributed.serve_worker({protocol.TRAIN_RUN: training.train_run})
    server = Server(MessageReader(sys.stdin.buffer), MessageWriter(protocol_out))
    register_default_handlers(server)
    handler = NotificationLogHandler(server)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    code = server.serve()
    if world is not None:
        world.send_exit()
    root.removeHandler(handler)
    protocol_out.flush()
    sys.stderr.flush()
    if server.in_flight_alive():
        # A handler that ignores cancellation must not keep the process alive past exit.
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
