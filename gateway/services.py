"""The services one app holds, kept in ``app.extensions["workjet"]``.

``create_app`` builds them; views reach them through ``services()``. Readiness checks
are registered by name so ``/readyz`` can say which dependency failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from gateway.auth.principal import Authenticator
from gateway.config import Settings
from gateway.store import Store

EXTENSION_KEY = "workjet"


@dataclass
class Services:
    settings: Settings
    store: Store
    authenticator: Authenticator
    readiness: dict[str, Callable[[], None]] = field(default_factory=dict)
    # filled by the parts that wire themselves in create_app
    limiter: Any = None
    budgets: Any = None  # gateway.budgets.Budgets: reserve(principal, tokens, cost, model=)
    audit: Any = None
    dlp: Any = None
    router: Any = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Flush and release everything (gunicorn's worker_exit calls this)."""
        for close in reversed(self.closers):
            close()


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found
