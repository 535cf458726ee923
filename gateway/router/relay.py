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
        self._lock = threading.Lock()

    def _first(self, target: Target, response: requests.Response) -> Any:
        """Open the translated stream and wait for its first event (the commit point)."""
        with self._lock:
            if self.cancelled:
                raise ProviderError(target.endpoint.provider, 0, "cancelled", False)
            self.response = response
        events = target.endpoint.adapter.stream(iter_body(response))
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
            if not self.cancelled:
                put(error_event(err))
            put(_END)
            return
        model = target.model
        put(MessageStart(id=new_message_id(), model=model.id, provider=model.provider))
        try:
            event: UpstreamEvent = first
            while True:
                if isinstance(event, StreamDone):
                    cost = model.cost(event.input_tokens, event.output_tokens)
                    put(UsageEvent(event.input_tokens, event.output_tokens, cost))
                    self.finished = True
                    put(MessageEnd(event.stop_reason))
                    break
                put(event)
                if time.monotonic() > deadline:
                    raise ProviderError(model.provider, 0, "out of time", False, timeout=True)
                event = next(events)
        except ProviderError as err:
            put(error_event(err))
        except Exception as exc:
            if not self.cancelled:
                target.endpoint.breaker.failure()
                reason = str(exc) if isinstance(exc, MalformedUpstreamError) else "ended early"
                put(error_event(ProviderError(model.provider, -1,
                                              f"the stream broke off ({reason})", False)))
        finally:
            response.close()
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
            yield item
    finally:
        reader.cancel()
