"""LSP-style message framing: ``Content-Length: N\\r\\n\\r\\n`` followed by N bytes of UTF-8 JSON.

Lengths count bytes, not characters. The reader copes with streams that return any number of bytes
per read (pipes hand over whatever has arrived) and with several messages arriving in one read.

Example::

    reader = MessageReader(sys.stdin.buffer)
    writer = MessageWriter(protocol_stdout)
    while (message := reader.read()) is not None:
        writer.write({"jsonrpc": "2.0", "id": message["id"], "result": None})
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, BinaryIO

HEADER_END = b"\r\n\r\n"
# Headers are a line or two; anything longer is not this protocol.
MAX_HEADER_BYTES = 8 * 1024
CHUNK_BYTES = 64 * 1024


class FramingError(RuntimeError):
    """The byte stream is not a sequence of Content-Length framed messages; it cannot be resynchronised."""


class MessageReader:
    """Reads framed messages from a binary stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._read_chunk = getattr(stream, "read1", None) or stream.read

    def read_body(self) -> bytes | None:
        """The next message body as bytes, or ``None`` at a clean end of stream (between messages)."""
        while (end := self._buffer.find(HEADER_END)) < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise FramingError(f"No end of headers within {MAX_HEADER_BYTES} bytes: {bytes(self._buffer[:80])!r}")
            if not self._fill():
                if self._buffer.strip():
                    raise FramingError(f"Stream ended inside a message header: {bytes(self._buffer[:80])!r}")
                return None
        length = _content_length(bytes(self._buffer[:end]))
        start = end + len(HEADER_END)
        while len(self._buffer) < start + length:
            if not self._fill():
                raise FramingError(f"Stream ended after {len(self._buffer) - start} of {length} body bytes")
        body = bytes(self._buffer[start : start + length])
        del self._buffer[: start + length]
        return body

    def read(self) -> Any:
        """The next message parsed as JSON, or ``None`` at end of stream. Raises ``ValueError`` on bad JSON."""
        body = self.read_body()
        return None if body is None else json.loads(body.decode("utf-8"))

    def _fill(self) -> bool:
        chunk = self._read_chunk(CHUNK_BYTES)
        if not chunk:
            return False
        self._buffer += chunk
        return True


def _content_length(header: bytes) -> int:
    length = None
    for line in header.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            raise FramingError(f"Malformed header line {line!r}")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise FramingError(f"Content-Length is not a number: {value.strip()!r}") from None
        elif name == b"content-type" and b"charset" in value.lower() and b"utf" not in value.lower():
            raise FramingError(f"Only UTF-8 bodies are supported, got {value.strip()!r}")
    if length is None or length < 0:
        raise FramingError(f"Message header without a valid Content-Length: {header!r}")
    return length


def encode_message(message: Any) -> bytes:
    """One framed message: the header and the UTF-8 JSON body."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class MessageWriter:
    """Writes framed messages to a binary stream; safe to call from several threads."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, message: Any) -> None:
        data = encode_message(message)
        with self._lock:
            self._stream.write(data)
            self._stream.flush()


def take_stdout_for_protocol() -> BinaryIO:
    """Reserves the process's real stdout for the protocol and returns it as a binary stream.

    File descriptor 1 and ``sys.stdout`` are pointed at stderr afterwards, so a stray ``print`` or a
    native library writing to stdout lands in the log instead of corrupting the message stream.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    # Buffered: a raw pipe write may take only part of a large message; BufferedWriter retries.
    return os.fdopen(protocol_fd, "wb")
