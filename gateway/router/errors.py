"""Provider failures as the gateway reports them.

``ProviderError`` is what the router raises internally (with whether a retry or a
fallback may help); ``api_error`` turns it into the ``ApiError`` the client sees, with
the provider's ``Retry-After`` carried through. Provider messages are cut short and never
logged: they may quote the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import ApiError
from shared.errors import ErrorCode

MAX_MESSAGE = 300


class ProviderRefused(ApiError):
    status, code = 400, "provider_error"


class ProviderAuthFailed(ApiError):
    status, code = 502, "provider_error"


class ProviderRateLimited(ApiError):
    status, code = 429, "rate_limited"


class ProviderUnavailable(ApiError):
    status, code = 503, "provider_unavailable"


class ProviderBadGateway(ApiError):
    status, code = 502, "provider_error"


class ProviderTimeout(ApiError):
    status, code = 504, "provider_timeout"


class ModelNotAllowed(ApiError):
    status, code = 404, "model_not_allowed"


@dataclass
class ProviderError(Exception):
    """One failed attempt; ``status`` is the provider's HTTP status (0: no answer)."""

    provider: str
    status: int
    message: str
    retryable: bool
    retry_after: str | None = None
    timeout: bool = False

    def __str__(self) -> str:
        return f"{self.provider} {self.status or 'no answer'}: {self.message}"

    @property
    def code(self) -> ErrorCode:
        return api_error(self).code


def classify(provider: str, status: int, message: str, retry_after: str | None) -> ProviderError:
    retryable = status == 429 or status >= 500
    return ProviderError(provider, status, message[:MAX_MESSAGE], retryable, retry_after)


def api_error(err: ProviderError) -> ApiError:
    headers = {"Retry-After": err.retry_after} if err.retry_after else None
    who = err.provider
    if err.timeout:
        return ProviderTimeout(f"{who} did not answer in time; try again.")
    if err.status == 0:
        return ProviderUnavailable(f"{who} cannot be reached: {err.message}", headers=headers)
    if err.status == 429:
        return ProviderRateLimited(f"{who} is rate limiting requests; try again later.",
                                   headers=headers)
    if err.status in (401, 403):
        return ProviderAuthFailed(f"{who} refused the gateway's credentials for this model; "
                                  "ask your administrator to check the provider key.")
    if err.status == 404:
        return ProviderBadGateway(f"{who} does not know this model: {err.message}")
    if 400 <= err.status < 500:
        return ProviderRefused(f"{who} refused the request: {err.message}")
    if err.status == -1:  # the answer could not be read
        return ProviderBadGateway(f"{who} sent an answer the gateway cannot read: {err.message}")
    return ProviderUnavailable(f"{who} failed ({err.status}); try again shortly.",
                               headers=headers)
