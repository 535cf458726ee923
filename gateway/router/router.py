"""Routing: pick the targets for a model name, send with retries and fallbacks, translate back.

A target is a catalog model on its provider endpoint with the credential to use. Failed
attempts that may succeed elsewhere (429, 5xx, connection errors, timeouts) move on to
the next target; when every target failed, the whole list is tried again after an
exponential backoff with jitter, as long as the per-request retry budget and the total
timeout allow. A circuit breaker per endpoint skips endpoints that keep failing.
Streams fall back only before their first event (see ``gateway.router.relay``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from gateway.ids import hex_id
from gateway.router.breaker import CircuitBreaker
from gateway.router.catalog import Catalog, CatalogModel, UnknownModelError
from gateway.router.errors import ModelNotAllowed, ProviderError, api_error, classify
from gateway.router.providers.base import Adapter, MalformedUpstreamError, loads
from shared.chat import ChatRequest, ChatResponse, Usage

MAX_ERROR_BODY = 64 * 1024
NO_PROXIES: dict[str, str] = {}  # proxies are mounted explicitly, never taken from the env
KeyLookup = Callable[[str, str], "str | None"]  # (tenant_id, provider) -> tenant's own key


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 120.0  # longest silence while waiting for bytes
    total: float = 600.0  # whole request, retries and stream included


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    rounds: int = 2  # passes over the target list
    backoff: float = 0.25  # first pause, doubled each round, with jitter
    backoff_max: float = 4.0
    budget: float = 10.0  # seconds of pauses and failed attempts a request may spend


@dataclass(slots=True)
class Endpoint:
    provider: str
    base_url: str
    session: requests.Session
    adapter: Adapter
    breaker: CircuitBreaker
    api_key: str = ""  # the deployment's key


@dataclass(frozen=True, slots=True)
class Target:
    model: CatalogModel
    endpoint: Endpoint
    api_key: str


class Router:
    def __init__(self, catalog: Catalog, endpoints: dict[str, Endpoint],
                 timeouts: Timeouts = Timeouts(), retry: RetryPolicy = RetryPolicy(),
                 tenant_keys: KeyLookup | None = None,
                 sleep: Callable[[float], None] = time.sleep, reader_threads: int = 64,
                 ) -> None:
        self.catalog = catalog
        self.endpoints = endpoints
        self.timeouts = timeouts
        self.retry = retry
        self.tenant_keys = tenant_keys
        self.key_store: Any = None  # gateway.router.tenant_keys.TenantKeys, for the API
        self._templates: dict[str, requests.PreparedRequest] = {}
        # stream readers (see gateway.router.relay); threads start on first use, after fork
        self.readers = ThreadPoolExecutor(max_workers=reader_threads,
                                          thread_name_prefix="workjet-relay")
        self._sleep = sleep

    def close(self) -> None:
        self.readers.shutdown(wait=False, cancel_futures=True)
        for endpoint in self.endpoints.values():
            endpoint.session.close()

    # --- planning -------------------------------------------------------------------

    def plan(self, model: str, tenant_id: str, tenant_name: str) -> tuple[Target, ...]:
        """The targets to try in order; 404 ``model_not_allowed`` when there are none."""
        try:
            models = self.catalog.resolve(model, tenant_id, tenant_name)
        except UnknownModelError:
            raise ModelNotAllowed(f"The model {model[:100]!r} is not in the catalog or not "
                                  "open to your tenant; GET /v1/models lists yours.") from None
        targets = []
        for m in models:
            endpoint = self.endpoints.get(m.provider)
            if endpoint is None:
                continue
            key = (self.tenant_keys(tenant_id, m.provider) if self.tenant_keys else None)
            key = key or endpoint.api_key
            if key or m.provider == "ollama":
                targets.append(Target(m, endpoint, key))
        if not targets:
            raise ModelNotAllowed(f"No provider credentials are configured for {model[:100]!r};"
                                  " ask your administrator.")
        return tuple(targets)

    # --- sending --------------------------------------------------------------------

    def open(self, req: ChatRequest, targets: tuple[Target, ...], stream: bool,
             deadline: float, first: Callable[[Target, requests.Response], Any] | None = None,
             ) -> tuple[Target, requests.Response, Any]:
        """Send with fallbacks and retries; ``first`` reads what must arrive before commit."""
        started = time.monotonic()
        budget_end = min(started + self.retry.budget, deadline)
        last: ProviderError | None = None
        for round_ in range(self.retry.rounds):
            if round_:
                pause = self._pause(round_, last)
                if time.monotonic() + pause >= budget_end:
                    break
                self._sleep(pause)
            for target in targets:
                if not target.endpoint.breaker.allow():
                    last = last or ProviderError(target.endpoint.provider, 503,
                                                 "circuit open after repeated failures", True)
                    continue
                try:
                    response = self._send(target, req, stream, deadline)
                    try:
                        head = first(target, response) if first else None
                    except BaseException:
                        response.close()
                        raise
                except ProviderError as err:
                    last = err
                    if not err.retryable:
                        raise
                    continue
                target.endpoint.breaker.success()
                return target, response, head
            if time.monotonic() >= budget_end:
                break
        assert last is not None
        raise last

    def _pause(self, round_: int, last: ProviderError | None) -> float:
        pause = min(self.retry.backoff_max, self.retry.backoff * 2.0 ** (round_ - 1))
        pause *= 0.5 + random.random() / 2  # noqa: S311 - jitter, not a secret
        if last is not None and last.retry_after and last.retry_after.isdigit():
            pause = max(pause, float(last.retry_after))
        return pause

    def _send(self, target: Target, req: ChatRequest, stream: bool,
              deadline: float) -> requests.Response:
        endpoint = target.endpoint
        upstream = endpoint.adapter.build(req, target.model, target.api_key, stream)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProviderError(endpoint.provider, 0, "out of time", False, timeout=True)
        timeout = (min(self.timeouts.connect, remaining), min(self.timeouts.read, remaining))
        prepared = self._prepared(endpoint, upstream.path)
        prepared.headers.update(upstream.headers)
        prepared.headers["Content-Length"] = str(len(upstream.body))
        prepared.body = upstream.body
        try:
            # Never follow redirects: a redirect would carry the provider key elsewhere.
            response = endpoint.session.send(prepared, timeout=timeout, stream=stream,
                                             allow_redirects=False, proxies=NO_PROXIES)
        except requests.RequestException as exc:
            endpoint.breaker.failure()
            raise transport_error(endpoint.provider, exc) from None
        if response.status_code >= 300:  # redirects included: they are not followed
            raise self._status_error(endpoint, response)
        return response

    def _prepared(self, endpoint: Endpoint, path: str) -> requests.PreparedRequest:
        """A copy of the prepared POST for this URL: parsing and merging happen once."""
        url = endpoint.base_url + path
        template = self._templates.get(url)
        if template is None:
            template = endpoint.session.prepare_request(requests.Request("POST", url, data=b""))
            if len(self._templates) < 1024:  # URLs come from the catalog: few
                self._templates[url] = template
        return template.copy()

    def _status_error(self, endpoint: Endpoint, response: requests.Response) -> ProviderError:
        try:
            raw = response.raw.read(MAX_ERROR_BODY, decode_content=True) if response.raw \
                else response.content
            message = endpoint.adapter.error_message(loads(raw or b"{}"))
        except (MalformedUpstreamError, requests.RequestException, OSError, ValueError):
            message = ""
        finally:
            response.close()
        err = classify(endpoint.provider, response.status_code,
                       message or response.reason or "error", response.headers.get("Retry-After"))
        if response.status_code >= 500:
            endpoint.breaker.failure()
        return err

    # --- non-streaming --------------------------------------------------------------

    def complete(self, req: ChatRequest, targets: tuple[Target, ...]) -> ChatResponse:
        """A whole answer; raises the ``ApiError`` for the last failure."""
        deadline = time.monotonic() + self.timeouts.total
        try:
            target, response, _ = self.open(req, targets, stream=False, deadline=deadline)
        except ProviderError as err:
            raise api_error(err) from None
        try:
            parsed = target.endpoint.adapter.parse(loads(response.content))
        except MalformedUpstreamError as exc:
            raise api_error(ProviderError(target.endpoint.provider, -1, str(exc), False)) \
                from None
        finally:
            response.close()
        m = target.model
        usage = Usage(parsed.input_tokens, parsed.output_tokens,
                      m.cost(parsed.input_tokens, parsed.output_tokens))
        return ChatResponse(id=new_message_id(), model=m.id, provider=m.provider,
                            content=parsed.content, stop_reason=parsed.stop_reason, usage=usage)


def new_message_id() -> str:
    return "msg_" + hex_id(12)


def transport_error(provider: str, exc: BaseException) -> ProviderError:
    text = str(exc)
    timed_out = isinstance(exc, requests.Timeout) or "timed out" in text
    if timed_out:
        return ProviderError(provider, 0, "timed out", True, timeout=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return ProviderError(provider, 0, "TLS handshake failed (TLS 1.3 and a trusted "
                             "certificate are required)", True)
    return ProviderError(provider, 0, "connection failed", True)


def iter_body(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: HTTP chunks as they come, else whatever a read returns."""
    raw = response.raw
    if raw.chunked and raw.supports_chunked_reads():
        yield from raw.read_chunked(None, decode_content=True)
        return
    while True:
        data = raw.read1(65536, decode_content=True)
        if not data:
            return
        yield data
