"""The trainer protocol, Python side: method names, parameter and result types, error codes.

``src/core/trainer/protocol.ts`` mirrors this file; change both together and bump
:data:`PROTOCOL_VERSION` when a message changes shape. Field names are snake_case on the wire.

Messages are JSON-RPC 2.0 with LSP-style ``Content-Length`` framing on stdin/stdout (stdout carries
nothing else; logs go to stderr or travel as ``log`` notifications). Bulk inputs and outputs are
files in a run directory named by the request, never message payloads.

Lifecycle, as in LSP: ``initialize`` first, then any requests; ``shutdown`` (a request: stop work,
answer ``null``), then the ``exit`` notification, after which the process ends (code 0 after a
shutdown, 1 otherwise). ``$/cancelRequest`` with ``{"id": ...}`` cancels a running request; the
handler notices between batches and the request fails with :data:`REQUEST_CANCELLED`.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

PROTOCOL_VERSION = 1
SERVER_NAME = "specialize-trainer"

# Requests (client → server).
INITIALIZE = "initialize"
SHUTDOWN = "shutdown"
TEACHER_SCORE = "teacher/score"
TRAIN_RUN = "train/run"
MODEL_EXPORT = "model/export"
# Test and diagnostics only: simulate long work and a crash with the real process. Not listed in
# ``InitializeResult.methods``.
DEBUG_SLEEP = "debug/sleep"
DEBUG_CRASH = "debug/crash"

# Notifications (client → server).
EXIT = "exit"
CANCEL_REQUEST = "$/cancelRequest"

# Notifications (server → client). Plain names, not ``$/progress``: vscode-jsonrpc routes
# ``$/progress`` to its own token-based progress handlers.
PROGRESS = "progress"
LOG = "log"

# Error codes. -32768..-32000 is reserved by JSON-RPC; -32099..-32000 is for implementations.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_CANCELLED = -32800  # LSP's RequestCancelled
NOT_IMPLEMENTED_YET = -32001  # a known method whose implementation has not arrived yet
PROBLEM = -32002  # a problem the user can fix; ``data.fix`` says how
SHUTTING_DOWN = -32003  # a request after ``shutdown``


class RpcError(Exception):
    """Raised by a handler to answer with a JSON-RPC error."""

    code = INTERNAL_ERROR

    def __init__(self, message: str, data: Any = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        if code is not None:
            self.code = code


class RequestCancelled(RpcError):
    """The client cancelled the request (``$/cancelRequest``) or the server is shutting down."""

    code = REQUEST_CANCELLED

    def __init__(self, message: str = "Request cancelled") -> None:
        super().__init__(message)


class InvalidParams(RpcError):
    code = INVALID_PARAMS


class NotImplementedYet(RpcError):
    code = NOT_IMPLEMENTED_YET


class Problem(RpcError):
    """A problem the user can fix (a missing file, a model that does not load); ``fix`` says what to do."""

    code = PROBLEM

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message, {"fix": fix})


class _ErrorObjectRequired(TypedDict):
    code: int
    message: str


class ErrorObject(_ErrorObjectRequired, total=False):
    data: Any


class ClientInfo(TypedDict):
    name: str
    version: str


class InitializeParams(TypedDict, total=False):
    client: ClientInfo
    protocol_version: int


class PythonInfo(TypedDict):
    executable: str
    version: str


class TorchInfo(TypedDict):
    version: str
    threads: int


class CudaInfo(TypedDict):
    available: bool
    # The CUDA version torch was built with (``torch.version.cuda``); None for CPU-only builds.
    version: str | None
    device_count: int


class DeviceInfo(TypedDict):
    type: Literal["cuda", "mps", "cpu"]
    name: str
    # GPU memory for cuda, system memory for cpu; None when unknown.
    total_memory_bytes: int | None
    # Whether bf16 runs natively (fast) on this device: CUDA's own check, or the CPU's bf16 instructions.
    bf16: bool


class PackageVersions(TypedDict):
    specialize_trainer: str
    transformers: str | None
    sentence_transformers: str | None


class InitializeResult(TypedDict):
    server: str
    protocol_version: int
    pid: int
    python: PythonInfo
    torch: TorchInfo
    cuda: CudaInfo
    device: DeviceInfo
    packages: PackageVersions
    # Implemented methods (not stubs, not debug/*).
    methods: list[str]


class RunDirParams(TypedDict):
    """Common to teacher/score, train/run and model/export: inputs and outputs live in ``run_dir``.

    Each method's own fields are defined with its implementation.
    """

    run_dir: str


class DebugSleepParams(TypedDict, total=False):
    seconds: float  # total time, default 1
    steps: int  # progress notifications and cancellation checks, default 10


class DebugSleepResult(TypedDict):
    steps_done: int
    seconds: float


class CancelParams(TypedDict):
    id: int | str


class _ProgressRequired(TypedDict):
    # The JSON-RPC id and method of the request that reports (None outside a request).
    request_id: int | str | None
    method: str | None
    stage: str
    step: int
    total: int


class ProgressParams(_ProgressRequired, total=False):
    # Loss terms by name (e.g. {"listwise": 0.8, "infonce": 1.2}); non-finite values are sent as null.
    loss: dict[str, float | None]
    lr: float | None
    # Items per second; ``throughput_unit`` names the item (e.g. "queries").
    throughput: float | None
    throughput_unit: str
    eta_seconds: float | None
    message: str


class LogParams(TypedDict):
    level: Literal["debug", "info", "warning", "error", "critical"]
    logger: str
    message: str
    # Seconds since the epoch.
    time: float
