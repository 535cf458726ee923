"""Streaming through the router: shared events as the provider's bytes arrive.

A reader thread sends the upstream request (with the router's fallbacks), translates the
provider's stream and hands each event over a queue; the caller's generator yields them
as they come, and ``None`` after ``keepalive`` seconds of silence so the SSE writer can
send a keep-alive comment (which is also how a vanished client is noticed during a long
silence). Closing the generator (the client went away) shuts the upstream socket at once.

Fallback happens only before the first event: the attempt is committed when the
provider's first translated event has arrived, and nothing reaches the client before.
"""

from __future__ import annotations

import contextlib
import queue
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
import urllib3

from gateway.router.errors import ProviderError, api_error
from gateway.router.providers.base import MalformedUpstreamError, StreamDone, UpstreamEvent
from gateway.router.router import Router, Target, iter_body, new_message_id, transport_error
from shared.chat import ChatRequest
from shared.errors import ErrorDetail
from shared.events import ErrorEvent, MessageEnd, MessageStart, StreamEvent, UsageEvent

_END = object()


class _Reader:
    def __init__(self, router: Router, req: ChatRequest, targets: tuple[Target, ...]) -> None:
        self.router = router
        self.req = req
        self.targets = targets
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.cancelled = False
        self.finished = False  # the upstream stream was read to its end
        self.response: requests.Response | None = None
        self.batch: list[Any] = []  # events not yet handed over
        self._lock = threading.Lock()

    def _hand_over(self) -> None:
        if self.batch:
            self.events.put(self.batch)
            self.batch = []

    def _chunks(self, response: requests.Response) -> Iterator[bytes]:
        """The body's chunks; before a read that may wait, hand over what is translated.

        Events from bytes that arrived together go over as one batch (one thread switch
        instead of one per event); nothing waits behind a read that could block.
        """
        connection = getattr(response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        for chunk in iter_body(response):
            yield chunk
            if self.batch and not _readable(sock):
                self._hand_over()

    def _first(self, target: Target, response: requests.Response) -> Any:
        """Open the translated stream and wait for its first event (the commit point)."""
        with self._lock:
            if self.cancelled:
                raise ProviderError(target.endpoint.provider, 0, "cancelled", False)
            self.response = response
        events = target.endpoint.adapter.stream(self._chunks(response))
        try:
            return events, next(events)
        except (requests.RequestException, OSError, urllib3.exceptions.HTTPError) as exc:
            target.endpoint.breaker.failure()
            raise transport_error(target.endpoint.provider, exc) from None
        except (MalformedUpstreamError, StopIteration) as exc:
            target.endpoint.breaker.failure()
            raise ProviderError(target.endpoint.provider, 502, str(exc) or "empty stream",
                                True) from None

    def run(self) -> None:
        put = self.events.put
        deadline = time.monotonic() + self.router.timeouts.total
        try:
            target, response, (events, first) = self.router.open(
                self.req, self.targets, stream=True, deadline=deadline, first=self._first)
        except ProviderError as err:
            put([] if self.cancelled else [error_event(err)])
            put(_END)
            return
        model = target.model
        self.batch.append(MessageStart(id=new_message_id(), model=model.id,
                                       provider=model.provider))
        try:
            event: UpstreamEvent = first
            while True:
                if isinstance(event, StreamDone):
                    cost = model.cost(event.input_tokens, event.output_tokens)
                    self.finished = True
                    self.batch.extend((UsageEvent(event.input_tokens, event.output_tokens, cost),
                                       MessageEnd(event.stop_reason)))
                    break
                self.batch.append(event)
                if event is first:
                    self._hand_over()  # the first bytes go at once (time to first byte)
                if time.monotonic() > deadline:
                    raise ProviderError(model.provider, 0, "out of time", False, timeout=True)
                event = next(events)
        except ProviderError as err:
            self.batch.append(error_event(err))
        except Exception as exc:
            if not self.cancelled:
                target.endpoint.breaker.failure()
                reason = str(exc) if isinstance(exc, MalformedUpstreamError) else "ended early"
                self.batch.append(error_event(ProviderError(
                    model.provider, -1, f"the stream broke off ({reason})", False)))
        finally:
            response.close()
            self._hand_over()
            put(_END)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            response = self.response
        if response is not None and not self.finished:
            connection = getattr(response.raw, "connection", None)
            sock = getattr(connection, "sock", None)
            if sock is not None:  # shutdown wakes a read blocked in the reader thread
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            response.close()


def _readable(sock: Any) -> bool:
    """More bytes are already waiting on the socket (so the next read will not block)."""
    if sock is None:
        return False
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def error_event(err: ProviderError) -> ErrorEvent:
    api = api_error(err)
    return ErrorEvent(ErrorDetail(code=api.code, message=api.message))


def stream(router: Router, req: ChatRequest, targets: tuple[Target, ...],
           keepalive: float) -> Iterator[StreamEvent | None]:
    """Events as they arrive, ``None`` on each ``keepalive`` seconds of silence."""
    reader = _Reader(router, req, targets)
    router.readers.submit(reader.run)
    get = reader.events.get
    try:
        while True:
            try:
                item = get(timeout=keepalive)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            yield from item
    finally:
        reader.cancel()
