"""The client side of the native API: blocking HTTP with ``requests``, no Textual here.

Security contract: https gateways are reached with TLS 1.3 at least, certificate and
host name checked against the system CAs or a configured CA bundle; plain http is
refused unless the gateway is on loopback. ``trust_env`` is off, so no proxy or
``.netrc`` from the environment redirects or decorates requests: the client talks to
the configured gateway and nothing else. The credential is read from the keychain
for each request through ``credential()`` and never kept on this object.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from client.errors import (
    GatewayError,
    GatewayProtocolError,
    GatewayUnreachableError,
    RateLimitedError,
    SignedOutError,
    describe,
    parse_retry_after,
)
from client.settings import check_gateway_url
from client.sse import SseParser, StreamFormatError, parse_event
from shared.chat import ChatRequest, ChatResponse
from shared.codec import decode, decode_json, encode, from_wire
from shared.errors import ErrorBody, ErrorDetail
from shared.events import StreamEvent
from shared.models import ModelList

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 300.0  # between two bytes of a stream; the gateway sends keep-alives
MAX_BODY_BYTES = 16 * 1024 * 1024
USER_AGENT = "workjet-client/0.1"


class TLS13Adapter(HTTPAdapter):
    """An adapter whose TLS context refuses anything older than TLS 1.3."""

    def __init__(self, ca_bundle: str | None = None) -> None:
        self._ctx = ssl.create_default_context(cafile=ca_bundle or None)
        self._ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        super().__init__(pool_connections=2, pool_maxsize=4)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._ctx
        return super().proxy_manager_for(*args, **kwargs)


@dataclass(frozen=True, slots=True)
class DeviceLogin:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class DevicePending(Exception):
    """Not approved yet; ``slow_down`` asks to poll less often."""

    def __init__(self, slow_down: bool = False) -> None:
        super().__init__("authorization pending")
        self.slow_down = slow_down


class EventStream:
    """The events of one streaming answer; ``close()`` from any thread ends it at once."""

    def __init__(self, response: requests.Response, gateway_url: str) -> None:
        self._response = response
        self._url = gateway_url
        self._closed = threading.Event()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> Iterator[StreamEvent]:
        parser = SseParser()
        try:
            for chunk in self._response.iter_content(chunk_size=None):
                if self._closed.is_set():
                    return
                for payload in parser.feed(chunk):
                    yield parse_event(payload)
        except StreamFormatError as exc:
            raise GatewayProtocolError(str(exc)) from exc
        except AttributeError:
            if self._closed.is_set():
                return  # urllib3 drops its file object on close; a read racing it lands here
            raise
        except (requests.RequestException, OSError, ValueError) as exc:
            if self._closed.is_set():
                return  # we closed it: not an error
            raise GatewayUnreachableError(
                f"The connection to the gateway at {self._url} broke during the answer "
                f"({type(exc).__name__}). Try again."
            ) from exc
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection so the gateway cancels the upstream request."""
        if self._closed.is_set():
            return
        self._closed.set()
        raw = self._response.raw
        # shutdown() wakes a reader blocked in recv() in another thread.
        with contextlib.suppress(AttributeError, ValueError, RuntimeError, OSError):
            raw.shutdown()
        self._response.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GatewayClient:
    """Calls to one gateway; safe to share between worker threads for separate requests."""

    def __init__(
        self,
        base_url: str,
        credential: Callable[[], str | None],
        *,
        ca_bundle: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.base_url = check_gateway_url(base_url)
        self._credential = credential
        self._timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.mount("https://", TLS13Adapter(ca_bundle))
        if urlsplit(self.base_url).scheme != "https":
            self._session.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=4))

    def close(self) -> None:
        self._session.close()

    # --- the API --------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        data = self._json("GET", "/api/v1/me")
        if not isinstance(data, dict):
            raise GatewayProtocolError("the gateway's /me answer is not an object")
        return data

    def models(self) -> ModelList:
        return from_wire(ModelList, self._json("GET", "/api/v1/models"))

    def chat(self, request: ChatRequest) -> ChatResponse:
        body = encode(_with_stream(request, False))
        return from_wire(ChatResponse, self._json("POST", "/api/v1/chat", body=body))

    def stream_chat(self, request: ChatRequest) -> EventStream:
        body = encode(_with_stream(request, True))
        response = self._send("POST", "/api/v1/chat", body=body, stream=True)
        return EventStream(response, self.base_url)

    def start_device_login(self, client_name: str = "workjet terminal") -> DeviceLogin:
        data = self._json(
            "POST", "/api/v1/auth/device", body=encode({"client_name": client_name}), auth=False
        )
        try:
            return DeviceLogin(
                device_code=str(data["device_code"]),
                user_code=str(data["user_code"]),
                verification_uri=str(data["verification_uri"]),
                verification_uri_complete=str(data.get("verification_uri_complete", "")),
                expires_in=int(data["expires_in"]),
                interval=max(1, int(data.get("interval", 5))),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayProtocolError(f"the gateway's device login answer is odd: {exc}") from exc

    def poll_device_token(self, device_code: str) -> str:
        """The session token once approved; ``DevicePending`` while waiting."""
        response = self._raw(
            "POST", "/api/v1/auth/device/token", encode({"device_code": device_code}), auth=False
        )
        if response.status_code == 400:
            detail = _error_detail(response)
            code = str(_error_code_raw(response))
            if code in ("authorization_pending", "slow_down"):
                raise DevicePending(slow_down=code == "slow_down")
            if code == "expired_token":
                raise GatewayError("The sign-in code expired. Start the sign-in again.")
            if code == "access_denied":
                raise GatewayError("The sign-in was refused in the browser.")
            raise GatewayError(describe(detail, self.base_url), status=400)
        data = self._check(response)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise GatewayProtocolError("the gateway approved the sign-in but sent no token")
        return token

    def logout(self) -> None:
        """End the current session on the gateway (a no-op answer for API keys is fine)."""
        self._check(self._raw("POST", "/api/v1/auth/logout", None))

    # --- plumbing -------------------------------------------------------------------

    def _json(self, method: str, path: str, *, body: str | None = None, auth: bool = True) -> Any:
        return self._check(self._raw(method, path, body, auth=auth))

    def _raw(
        self, method: str, path: str, body: str | None, *, auth: bool = True
    ) -> requests.Response:
        return self._send(method, path, body=body, auth=auth, stream=False, check=False)

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: str | None = None,
        auth: bool = True,
        stream: bool,
        check: bool = True,
    ) -> requests.Response:
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            token = self._credential()
            if not token:
                raise SignedOutError(
                    f"You are not signed in to {self.base_url}. Sign in (ctrl+g, or "
                    "`workjet login URL`)."
                )
            headers["Authorization"] = f"Bearer {token}"
        url = self.base_url + path
        try:
            response = self._session.request(
                method,
                url,
                data=body.encode() if body is not None else None,
                headers=headers,
                timeout=self._timeout,
                stream=stream,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise GatewayUnreachableError(
                f"A secure (TLS 1.3) connection to {url} failed: {_reason(exc)}. The gateway "
                "must offer TLS 1.3 with a certificate your CA bundle trusts (Settings)."
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise GatewayUnreachableError(
                f"The gateway at {url} did not answer in time. Check that it is up."
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise GatewayUnreachableError(
                f"Cannot reach the gateway at {url} ({_reason(exc)}). Is it running, and is "
                "the gateway URL in Settings right?"
            ) from exc
        if stream and check and response.status_code >= 300:
            try:
                self._check(response)
            finally:
                response.close()
        return response

    def _check(self, response: requests.Response) -> Any:
        status = response.status_code
        if status == 204:
            return None
        raw = response.content
        if len(raw) > MAX_BODY_BYTES:
            raise GatewayProtocolError(f"the gateway's answer is over {MAX_BODY_BYTES} bytes")
        if status < 300:
            try:
                return decode_json(raw, max_bytes=MAX_BODY_BYTES)
            except ValueError as exc:
                raise GatewayProtocolError(
                    f"the gateway at {self.base_url} sent an answer that is not JSON"
                ) from exc
        detail = _error_detail(response)
        kw: dict[str, Any] = {"code": detail.code, "status": status,
                              "request_id": detail.request_id}
        if status == 401:
            raise SignedOutError(describe(detail, self.base_url), **kw)
        if status == 429:
            after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimitedError(
                describe(detail, self.base_url, retry_after=after), retry_after=after, **kw
            )
        raise GatewayError(describe(detail, self.base_url), **kw)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    429: "rate_limited",
    503: "service_unavailable",
}


def _error_code_raw(response: requests.Response) -> object:
    try:
        return decode_json(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


def _error_detail(response: requests.Response) -> ErrorDetail:
    """The error body, or a stand-in built from the status when the body is not one."""
    try:
        return decode(ErrorBody, response.content).error
    except ValueError:
        code = _STATUS_CODES.get(response.status_code, "internal_error")
        return ErrorDetail(
            code=code,  # type: ignore[arg-type]
            message=f"HTTP {response.status_code} {response.reason or ''}".strip(),
            request_id=response.headers.get("X-Request-Id", ""),
        )


def _with_stream(request: ChatRequest, stream: bool) -> ChatRequest:
    from dataclasses import replace

    return replace(request, stream=stream)


def _reason(exc: BaseException) -> str:
    """The innermost cause, e.g. 'Connection refused', without the URL noise."""
    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    for arg in getattr(exc, "args", ()):
        text = str(arg)
        if "Connection refused" in text:
            return "connection refused"
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "unknown host name"
    text = str(inner) or type(inner).__name__
    return text[:200]
