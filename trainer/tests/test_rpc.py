import io
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from server_process import TRAINER_DIR, ServerProcess

from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.framing import FramingError, MessageReader, MessageWriter, encode_message
from specialize_trainer.rpc.server import CancelToken


class Trickle(io.RawIOBase):
    """A pipe that hands over at most ``size`` bytes per read, like a slow writer on the other end."""

    def __init__(self, data: bytes, size: int = 3) -> None:
        self._data = data
        self._size = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data[: min(self._size, len(buffer))]
        self._data = self._data[len(chunk) :]
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_framing_round_trip_several_messages_in_one_read():
    messages = [{"jsonrpc": "2.0", "id": i, "method": "m", "params": {"i": i}} for i in range(3)]
    stream = io.BytesIO()
    writer = MessageWriter(stream)
    for message in messages:
        writer.write(message)
    reader = MessageReader(io.BytesIO(stream.getvalue()))
    assert [reader.read() for _ in messages] == messages
    assert reader.read() is None


@pytest.mark.parametrize("size", [1, 2, 7])
def test_framing_survives_partial_reads_and_counts_utf8_bytes(size):
    message = {"text": "東京 café — naïve 🚀", "n": 1}
    data = encode_message(message)
    header, body = data.split(b"\r\n\r\n", 1)
    # The length is in bytes: larger than the number of characters of the JSON text.
    assert int(header.split(b":")[1]) == len(body) > len(body.decode("utf-8"))
    # Tiny reads split the header, the separator and multi-byte characters.
    reader = MessageReader(Trickle(data * 2, size))
    assert reader.read() == message
    assert reader.read() == message
    assert reader.read() is None


def test_framing_accepts_content_type_and_any_header_case():
    body = json.dumps({"ok": True}).encode()
    data = b"content-length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body) + body
    assert MessageReader(io.BytesIO(data)).read() == {"ok": True}


@pytest.mark.parametrize(
    "data, match",
    [
        (b'Content-Type: application/json\r\n\r\n{"a": 1}', "without a valid Content-Length"),
        (b"Content-Length: ten\r\n\r\n", "not a number"),
        (b'Content-Length: 50\r\n\r\n{"a": 1}', "Stream ended after 8 of 50 body bytes"),
        (b"Content-Length: 5", "Stream ended inside a message header"),
        (b"x" * 10_000, "No end of headers"),
    ],
)
def test_framing_rejects_broken_streams(data, match):
    with pytest.raises(FramingError, match=match):
        MessageReader(io.BytesIO(data)).read()


def test_cancel_token_interrupts_a_sleep():
    token = CancelToken()
    threading.Timer(0.05, token.cancel).start()
    start = time.monotonic()
    with pytest.raises(protocol.RequestCancelled):
        token.sleep(10)
    assert time.monotonic() - start < 2
    assert token.cancelled


@pytest.fixture
def server():
    process = ServerProcess()
    yield process
    process.close()


def test_initialize_reports_the_environment(server):
    result = server.response(server.request("initialize", {"client": {"name": "pytest", "version": "0"}}))["result"]
    assert result["server"] == "specialize-trainer"
    assert result["protocol_version"] == protocol.PROTOCOL_VERSION
    assert result["pid"] == server.process.pid
    assert result["python"]["executable"]
    assert result["python"]["version"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert result["torch"]["version"].startswith("2.")
    assert isinstance(result["cuda"]["available"], bool)
    assert result["device"]["type"] in ("cuda", "mps", "cpu")
    assert isinstance(result["device"]["name"], str) and result["device"]["name"]
    assert isinstance(result["device"]["bf16"], bool)
    assert result["packages"]["sentence_transformers"] and result["packages"]["transformers"]
    assert result["methods"] == ["initialize", "model/export", "shutdown", "teacher/score", "train/run"]


def test_cancel_stops_a_request_within_one_step(server):
    request_id = server.request("debug/sleep", {"seconds": 30, "steps": 30})
    progress = server.next_message()
    assert progress["method"] == "progress"
    params = progress["params"]
    assert params["request_id"] == request_id and params["stage"] == "debug/sleep"
    assert (params["step"], params["total"]) == (1, 30)
    assert params["loss"] == {"debug": 1.0} and params["lr"] == 0.0
    assert params["throughput"] > 0 and params["eta_seconds"] == pytest.approx(29.0)
    start = time.monotonic()
    server.send({"method": "$/cancelRequest", "params": {"id": request_id}})
    response = server.response(request_id, timeout=5)
    assert time.monotonic() - start < 1.0
    assert response["error"]["code"] == protocol.REQUEST_CANCELLED
    # The server carries on.
    assert server.response(server.request("debug/sleep", {"seconds": 0, "steps": 1}))["result"]["steps_done"] == 1


def test_errors_are_clear_and_the_server_carries_on(server):
    unknown = server.response(server.request("no/such/method"))["error"]
    assert unknown["code"] == protocol.METHOD_NOT_FOUND
    assert "no/such/method" in unknown["message"]
    missing = server.response(server.request("model/export", {"run_dir": "/nonexistent/run"}))["error"]
    assert missing["code"] == protocol.PROBLEM
    bad = server.response(server.request("debug/sleep", {"seconds": -1}))["error"]
    assert bad["code"] == protocol.INVALID_PARAMS and "seconds" in bad["message"]
    positional = server.response(server.request("debug/sleep", [1, 2]))["error"]
    assert positional["code"] == protocol.INVALID_PARAMS
    body = b"{not json"
    server.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.process.stdin.flush()
    assert server.next_message()["error"]["code"] == protocol.PARSE_ERROR
    assert server.response(server.request("debug/sleep", {"seconds": 0, "steps": 1}))["result"]["steps_done"] == 1


def test_shutdown_cancels_work_refuses_more_and_exit_ends_the_process(server):
    sleeping = server.request("debug/sleep", {"seconds": 30, "steps": 30})
    shutdown = server.request("shutdown")
    after = server.request("debug/sleep", {"seconds": 0, "steps": 1})
    assert server.response(sleeping)["error"]["code"] == protocol.REQUEST_CANCELLED
    assert server.response(shutdown)["result"] is None
    assert server.response(after)["error"]["code"] == protocol.SHUTTING_DOWN
    server.send({"method": "exit"})
    assert server.process.wait(10) == 0


def test_end_of_input_without_shutdown_exits_with_code_1(server):
    server.process.stdin.close()
    assert server.process.wait(60) == 1


def test_crash_exits_without_answering(server):
    server.request("debug/crash")
    assert server.process.wait(60) == 3
    assert "debug/crash" in server.stderr


def test_stray_prints_never_reach_the_protocol_stream():
    code = (
        "import sys\n"
        "from specialize_trainer.rpc.framing import MessageWriter, take_stdout_for_protocol\n"
        "out = take_stdout_for_protocol()\n"
        "print('stray print')\n"
        "import os; os.write(1, b'native write\\n')\n"
        "MessageWriter(out).write({'ok': True})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(TRAINER_DIR)},
        timeout=60,
        check=True,
    )
    assert MessageReader(io.BytesIO(result.stdout)).read() == {"ok": True}
    assert result.stdout == encode_message({"ok": True})
    assert b"stray print" in result.stderr and b"native write" in result.stderr
