"""Streaming through the router: shared events as the provider's bytes arrive.

Opening a stream (sending with the router's fallbacks, up to the provider's first
translated event, the commit point) runs on a reader thread while the request's thread
yields ``None`` every ``keepalive`` seconds, so the SSE writer sends keep-alive comments
to a client waiting on a slow provider. Fallback happens only in that phase: nothing
reaches the client before the first event.

From the first event on, the request's own thread reads and translates the rest: one
thread, no hand-over per event. Before a read that may wait it yields ``FLUSH``: events
translated from bytes that arrived together go to the client in one write, and nothing
waits behind a read. Every ``keepalive`` seconds of provider silence becomes ``SILENCE``
in the chunk stream and ``None`` here (a keep-alive comment, also how a vanished client
is noticed). Closing the generator (the client went away) closes the upstream connection
at once; a stream read to its end gives its connection back to the pool.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from gateway.router.errors import ProviderError, api_error
from gateway.router.providers.base import (
    SILENCE,
    WAIT,
    MalformedUpstreamError,
    Pause,
    StreamDone,
    UpstreamEvent,
)
from gateway.router.router import Router, Target, iter_body, new_message_id, transport_error
from shared.chat import ChatRequest
from shared.errors import ErrorDetail
from shared.events import ErrorEvent, MessageEnd, MessageStart, StreamEvent, UsageEvent


class Flush:
    """In a relayed stream: what came before may be written now; what follows may wait."""

    __slots__ = ()


FLUSH = Flush()
Relayed = StreamEvent | Flush | None  # None: a keep-alive comment (and a flush)

DRAIN_BYTES = 64 * 1024  # read at most this much past a stream's last event to reuse its socket
DRAIN_WAIT = 0.25  # seconds to wait for the body's last bytes (the closing chunk)


@dataclass
class _Body:
    """A provider's response body as chunks, with ``WAIT`` before a read that may wait
    and ``SILENCE`` for each keep-alive interval without bytes.

    Peeking at http.client's buffered reader tells how many bytes arrived together; the
    chunks made of them are read without asking again (no system call at all, which
    matters when a burst of events meets a busy worker). Once they are used up, the peek's
    read waits on the socket, whose timeout is the keep-alive interval, and a timeout is a
    silence. Nothing is read when it times out, so the reader is marked usable again. A
    silence of ``read_timeout`` ends the stream.
    """

    response: requests.Response
    keepalive: float
    read_timeout: float
    chunks: Iterator[bytes] | None = None
    finished: bool = False  # the provider's last event has been read
    quiet_since: float | None = None
    buffered: int = 0  # bytes of the body known to wait in the reader's buffer

    def __post_init__(self) -> None:
        self.buffer = _buffer(self.response)
        self.sock = _socket(self.response)
        # chunk sizes are wire sizes only without a content encoding
        encoding = self.response.headers.get("Content-Encoding", "identity").lower()
        self.countable = encoding == "identity"
        self.framed = bool(self.response.raw.chunked)  # each chunk: size line, data, CRLF
        if not hasattr(getattr(self.buffer, "raw", None), "_timeout_occurred"):
            self.sock = None  # not socket.SocketIO: read (and wait) as requests would
        elif self.sock is not None:
            # also the longest wait for the rest of an event once its first bytes came
            self.sock.settimeout(min(self.keepalive, self.read_timeout))

    def __iter__(self) -> Iterator[bytes | Pause]:
        self.chunks = iter_body(self.response)
        while True:
            if self.buffered <= 0:
                yield WAIT
                while not self.ready():
                    yield SILENCE
            chunk = next(self.chunks, None)
            if chunk is None:
                return
            self.buffered -= len(chunk) + (len(b"%x" % len(chunk)) + 4 if self.framed else 0)
            yield chunk

    def ready(self) -> bool:
        """More of the body is at hand, or arrived within the socket's timeout."""
        if self.sock is None or self.buffer is None:
            return True
        try:
            waiting = len(self.buffer.peek(1))  # buffered bytes, or one read that may wait
        except TimeoutError:
            self.buffer.raw._timeout_occurred = False  # nothing was read: still usable
            now = time.monotonic()
            if self.quiet_since is None:
                self.quiet_since = now - self.keepalive
            if now - self.quiet_since >= self.read_timeout:
                raise TimeoutError("the provider timed out (no bytes for "
                                   f"{self.read_timeout:g} s)") from None
            return False
        except (OSError, ValueError):
            return True  # the read reports what went wrong
        self.quiet_since = None
        self.buffered = waiting if self.countable else 0
        return True

    def drain(self) -> None:
        """Read what follows the last event (``[DONE]``, the closing chunk) so the
        connection goes back to the pool: a new connection per stream costs more CPU
        than the rest of the relay."""
        if self.chunks is None:
            return
        left = DRAIN_BYTES
        with contextlib.suppress(Exception):  # a broken ending only costs this connection
            if self.sock is not None:
                self.sock.settimeout(DRAIN_WAIT)  # urllib3 sets its own on the next request
            while left > 0:
                chunk = next(self.chunks, None)
                if chunk is None:
                    return  # the whole body is read: urllib3 has pooled the connection
                left -= len(chunk)


@dataclass
class _Opened:
    target: Target
    body: _Body
    events: Iterator[UpstreamEvent | Pause]
    first: UpstreamEvent


class _Opener:
    """The reader thread's part: open the stream and read up to its first event."""

    def __init__(self, router: Router, req: ChatRequest, targets: tuple[Target, ...],
                 keepalive: float) -> None:
        self.router = router
        self.req = req
        self.targets = targets
        self.keepalive = keepalive
        self.deadline = time.monotonic() + router.timeouts.total
        self.results: queue.SimpleQueue[_Opened | ProviderError] = queue.SimpleQueue()
        self.cancelled = False
        self.response: requests.Response | None = None  # the one being opened
        self._lock = threading.Lock()

    def _first(self, target: Target, response: requests.Response) -> tuple[Any, Any]:
        with self._lock:
            if self.cancelled:
                raise ProviderError(target.endpoint.provider, 0, "cancelled", False)
            self.response = response
        body = _Body(response, self.keepalive, self.router.timeouts.read)
        events = target.endpoint.adapter.stream(body)
        try:
            first = next(events)
            while isinstance(first, Pause):  # the client gets keep-alives meanwhile
                first = next(events)
            return body, (events, first)
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as exc:
            target.endpoint.breaker.failure()
            raise transport_error(target.endpoint.provider, exc) from None
        except (MalformedUpstreamError, StopIteration) as exc:
            target.endpoint.breaker.failure()
            raise ProviderError(target.endpoint.provider, 502, str(exc) or "empty stream",
                                True) from None

    def run(self) -> None:
        result: _Opened | ProviderError
        try:
            target, _, (body, (events, first)) = self.router.open(
                self.req, self.targets, stream=True, deadline=self.deadline, first=self._first)
            result = _Opened(target, body, events, first)
        except ProviderError as err:
            result = err
        except Exception as exc:  # never leave the request thread waiting for nothing
            result = ProviderError(self.targets[0].endpoint.provider, -1,
                                   f"the stream could not be opened ({type(exc).__name__})",
                                   False)
        with self._lock:
            self.response = None
            if self.cancelled:  # nobody will take it
                if isinstance(result, _Opened):
                    result.body.response.close()
                return
            self.results.put(result)

    def cancel(self) -> None:
        """The client went away while opening: wake the reader and drop what it opened."""
        with self._lock:
            self.cancelled = True
            response = self.response
        if response is not None:
            sock = _socket(response)
            if sock is not None:  # shutdown wakes a read blocked in the reader thread
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            response.close()
        with contextlib.suppress(queue.Empty):
            left = self.results.get_nowait()  # opened just before the cancel
            if isinstance(left, _Opened):
                left.body.response.close()


def _buffer(response: requests.Response) -> Any:
    """http.client's buffered reader of the response (None if it is not there)."""
    return getattr(getattr(response.raw, "_fp", None), "fp", None)


def _socket(response: requests.Response) -> Any:
    """The socket the response is read from; the connection lets go of it (``sock`` is
    None) when the response is the connection's last."""
    sock = getattr(getattr(_buffer(response), "raw", None), "_sock", None)
    return sock or getattr(getattr(response.raw, "connection", None), "sock", None)


def error_event(err: ProviderError) -> ErrorEvent:
    api = api_error(err)
    return ErrorEvent(ErrorDetail(code=api.code, message=api.message))


def stream(router: Router, req: ChatRequest, targets: tuple[Target, ...],
           keepalive: float) -> Iterator[Relayed]:
    """Events as they arrive, ``FLUSH`` before a wait, ``None`` on each ``keepalive``
    seconds of silence."""
    opener = _Opener(router, req, targets, keepalive)
    router.readers.submit(opener.run)
    opened: _Opened | None = None
    try:
        while True:
            try:
                result = opener.results.get(timeout=keepalive)
                break
            except queue.Empty:
                yield None
                yield FLUSH
        if isinstance(result, ProviderError):
            yield error_event(result)
            return
        opened = result
        yield from _relay(opened, opener.deadline)
    finally:
        if opened is None:
            opener.cancel()
        else:
            if opened.body.finished:  # the client has every event: now tidy the connection
                opened.body.drain()
            opened.body.response.close()


def _relay(opened: _Opened, deadline: float) -> Iterator[Relayed]:
    """The stream after its first event, read in the calling thread."""
    target, events = opened.target, opened.events
    model = target.model
    yield MessageStart(id=new_message_id(), model=model.id, provider=model.provider)
    event: UpstreamEvent | Pause = opened.first
    try:
        while True:
            if isinstance(event, StreamDone):
                cost = model.cost(event.input_tokens, event.output_tokens)
                opened.body.finished = True
                yield UsageEvent(event.input_tokens, event.output_tokens, cost)
                yield MessageEnd(event.stop_reason)
                return
            if isinstance(event, Pause):
                if event.silent:
                    yield None
                yield FLUSH
            else:
                yield event
            if time.monotonic() > deadline:
                raise ProviderError(model.provider, 0, "out of time", False, timeout=True)
            event = next(events)
    except ProviderError as err:
        yield error_event(err)
    except Exception as exc:
        target.endpoint.breaker.failure()
        reason = str(exc) if isinstance(exc, MalformedUpstreamError) else "ended early"
        yield error_event(ProviderError(model.provider, -1, f"the stream broke off ({reason})",
                                        False))
