"""What an emulator does for the next request, and what it observed.

Every provider emulator shares one ``EmulatorState``: tests set ``state.default`` or queue
one-off ``Behaviour`` values (consumed one per request), then read ``state.requests``,
``state.client_closed`` and ``state.completed`` to see what the gateway did on the wire.
The answer itself is deterministic (``plan_reply``): with tools offered and no tool result
yet, the model calls the first tool; after a tool result it reports the result; otherwise
it echoes the last user text.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_TOOL_ARGUMENTS: dict[str, Any] = {"location": "Paris", "unit": "celsius"}


@dataclass(frozen=True)
class Behaviour:
    latency: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between streamed chunks
    status: int = 200  # answer with this error status instead of a reply
    retry_after: str | None = None  # Retry-After header on errors
    break_after: int | None = None  # drop the connection after this many chunks
    text: str | None = None  # answer text instead of the echo
    pieces: int | None = None  # split the answer text into this many chunks
    max_tokens_hit: bool = False  # stop as if max_tokens was reached
    tool_arguments: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TOOL_ARGUMENTS))

    def with_(self, **changes: Any) -> Behaviour:
        return replace(self, **changes)


@dataclass(frozen=True)
class Conversation:
    """The provider-neutral gist of a request, as each wire module reads it."""

    model: str
    last_user_text: str
    tool_names: tuple[str, ...]
    tool_result: str | None  # content of the last message if it is a tool result
    stream: bool
    input_words: int
    system: str = ""


@dataclass(frozen=True)
class Reply:
    text: str | None
    pieces: tuple[str, ...]
    tool_name: str | None
    tool_arguments: dict[str, Any]
    input_tokens: int
    output_tokens: int
    stop: str  # "end", "tool", "length"


class EmulatorState:
    """Thread-safe behaviour queue and observations of one emulator server."""

    def __init__(self, api_key: str = "test-provider-key") -> None:
        self.api_key = api_key
        self.default = Behaviour()
        self.queue: deque[Behaviour] = deque()
        self.requests: list[dict[str, Any]] = []
        self.client_closed = 0  # streams the client closed before their end
        self.completed = 0  # streams sent to their end
        self.stream_closed = threading.Event()
        self.record_requests = True
        self._lock = threading.Lock()

    def push(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self.queue.extend(behaviours)

    def take(self, record: dict[str, Any]) -> Behaviour:
        if not self.queue and not self.record_requests:
            return self.default  # the benchmark's hot path: no lock, no record
        with self._lock:
            if self.record_requests:
                self.requests.append(record)
            return self.queue.popleft() if self.queue else self.default

    def reset(self) -> None:
        with self._lock:
            self.default = Behaviour()
            self.queue.clear()
            self.requests.clear()
            self.client_closed = 0
            self.completed = 0
            self.stream_closed.clear()

    def _ended(self, completed: bool) -> None:
        with self._lock:
            if completed:
                self.completed += 1
            else:
                self.client_closed += 1
        if not completed:
            self.stream_closed.set()


class EmulatedBreakError(ConnectionError):
    """Raised inside a stream to cut the connection the way a failing provider does."""


def plan_reply(conv: Conversation, behaviour: Behaviour) -> Reply:
    if conv.tool_names and conv.tool_result is None:
        args = behaviour.tool_arguments
        return Reply(None, (), conv.tool_names[0], args, conv.input_words, 12, "tool")
    if behaviour.text is not None:
        text = behaviour.text
    elif conv.tool_result is not None:
        text = f"The tool returned: {conv.tool_result}"
    else:
        text = f"Hello from {conv.model}. You said: {conv.last_user_text}"
    pieces = split_text(text, behaviour.pieces)
    stop = "length" if behaviour.max_tokens_hit else "end"
    return Reply(text, pieces, None, {}, conv.input_words, len(pieces), stop)


def split_text(text: str, count: int | None) -> tuple[str, ...]:
    """Words with their trailing space, or ``count`` nearly equal slices."""
    if count is None:
        words = text.split(" ")
        return (*tuple(w + " " for w in words[:-1]), words[-1])
    size = max(1, -(-len(text) // count))
    return tuple(text[i : i + size] for i in range(0, len(text), size))


def split_json(text: str, parts: int = 3) -> tuple[str, ...]:
    """A JSON string cut into fragments, as providers stream tool arguments."""
    size = max(1, -(-len(text) // parts))
    return tuple(text[i : i + size] for i in range(0, len(text), size))


def count_words(texts: Iterable[str]) -> int:
    return sum(len(t.split()) for t in texts) or 1


def paced(
    chunks: Iterable[bytes], behaviour: Behaviour, state: EmulatorState
) -> Iterator[bytes]:
    """Yield wire chunks with the configured delay; note whether the client stayed.

    Called in the view (the socket is taken from the request then); the chunks are
    produced later, while the server writes them.
    """
    from flask import request

    sock = request.environ.get("werkzeug.socket")  # the dev server's connection
    return _paced(chunks, behaviour, state, sock)


def _paced(chunks: Iterable[bytes], behaviour: Behaviour, state: EmulatorState,
           sock: Any) -> Iterator[bytes]:
    try:
        for i, chunk in enumerate(chunks):
            if behaviour.break_after is not None and i >= behaviour.break_after:
                if sock is not None:  # a reset the client sees even before any byte
                    sock.shutdown(2)
                raise EmulatedBreakError("emulated broken stream")
            if i and behaviour.chunk_delay:
                time.sleep(behaviour.chunk_delay)
            yield chunk
    except GeneratorExit:
        state._ended(completed=False)
        raise
    except EmulatedBreakError:
        raise
    else:
        state._ended(completed=True)
