"""Incremental parser of a server-sent-event stream into the shared stream events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shared.codec import decode_json, from_wire
from shared.events import StreamEvent

MAX_EVENT_BYTES = 1024 * 1024


class StreamFormatError(ValueError):
    """The gateway sent something that is not a valid event stream."""


class SseParser:
    """Feed bytes as they arrive; get back the ``data`` payload of each complete event."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._size = 0
        self._max = max_event_bytes

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        events: list[bytes] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            end, skip = cut
            line, self._buffer = self._buffer[:end], self._buffer[end + skip :]
            if not line:
                if self._data:
                    events.append(b"\n".join(self._data))
                self._data, self._size = [], 0
            elif line.startswith(b":"):
                continue  # a comment: keep-alive
            elif line.startswith(b"data:"):
                value = line[5:]
                value = value[1:] if value.startswith(b" ") else value
                self._size += len(value)
                if self._size > self._max:
                    raise StreamFormatError(f"an event is larger than {self._max} bytes")
                self._data.append(value)
            # "event:", "id:" and "retry:" fields carry nothing the client needs
        if len(self._buffer) > self._max:
            raise StreamFormatError(f"a line is longer than {self._max} bytes")
        return events


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """Index of the first line ending and its length (\\n, \\r\\n or \\r)."""
    n = buffer.find(b"\n")
    r = buffer.find(b"\r")
    if r == -1 and n == -1:
        return None
    if r == -1 or (n != -1 and n < r):
        return n, 1
    if r + 1 < len(buffer):
        return (r, 2) if buffer[r + 1 : r + 2] == b"\n" else (r, 1)
    return None  # a lone \r at the end may be followed by \n: wait for more


def parse_event(payload: bytes) -> StreamEvent:
    try:
        event: StreamEvent = from_wire(StreamEvent, decode_json(payload))  # type: ignore[arg-type]
    except ValueError as exc:
        raise StreamFormatError(f"the gateway sent an unreadable event: {exc}") from exc
    return event


def events_from_chunks(chunks: Iterable[bytes]) -> Iterator[StreamEvent]:
    parser = SseParser()
    for chunk in chunks:
        for payload in parser.feed(chunk):
            yield parse_event(payload)
