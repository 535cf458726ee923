"""Token and spend budgets with in-process counters: reserve, refuse, settle, release."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from gateway.budgets import BudgetExceeded, Budgets
from gateway.budgets.counters import window_id
from gateway.limits.policy import TenantOverrides
from shared.chat import Usage
from tests.gateway.limits.support import principal_of
from tests.gateway.server import provision


def budgets_of(app: Flask) -> Budgets:
    budgets: Budgets = app.extensions["workjet"].budgets
    return budgets


def test_tokens_per_minute_refuses_the_reservation_that_would_pass(
    limited_app: Callable[..., Flask],
) -> None:
    app = limited_app(budget_key_tokens_per_minute=1000)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    budgets = budgets_of(app)
    first = budgets.reserve(who, 600, 0.0, model="m")
    with pytest.raises(BudgetExceeded) as refused:
        budgets.reserve(who, 500, 0.0, model="m")
    err = refused.value
    assert err.status == 429 and err.code == "budget_exceeded"
    assert "credential's tokens-per-minute budget of 1000 tokens is used up" in err.message
    assert "600 tokens used or reserved" in err.message
    assert 1 <= int(err.headers["Retry-After"]) <= 60
    assert f"It resets in {err.headers['Retry-After']} s." in err.message
    first.settle(Usage(input_tokens=100, output_tokens=50, cost=0.0))
    # the settled request gave back 450 of its 600 reserved tokens
    budgets.reserve(who, 850, 0.0).release()
    budgets.reserve(who, 850, 0.0)
    with pytest.raises(BudgetExceeded):
        budgets.reserve(who, 1, 0.0)


def test_a_request_larger_than_the_whole_budget_says_to_lower_max_tokens(
    limited_app: Callable[..., Flask],
) -> None:
    app = limited_app(budget_user_tokens_per_minute=100)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    with pytest.raises(BudgetExceeded, match="lower max_tokens"):
        budgets_of(app).reserve(who, 101, 0.0)


def test_daily_spend_of_the_tenant_uses_its_override(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(budget_tenant_daily=100.0)
    store = app.extensions["workjet"].store
    ann = principal_of(provision(store, "acme", "ann@acme.test"))
    bob = principal_of(provision(store, "acme", "bob@acme.test"))
    store.tenant(ann.tenant_id).set_limit_overrides(TenantOverrides(daily_budget=1.0))
    budgets = budgets_of(app)
    budgets.reserve(ann, 10, 0.75).settle(Usage(10, 10, 0.25))
    budgets.reserve(bob, 10, 0.75)  # 0.25 spent + 0.75 reserved = the whole 1.00
    with pytest.raises(BudgetExceeded, match=r"tenant's daily spend budget of 1.00 is used up") \
            as refused:
        budgets.reserve(ann, 10, 0.01)
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    assert f"It resets at {tomorrow} 00:00 UTC." in refused.value.message


def test_release_and_settle_happen_once(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(budget_key_tokens_per_minute=100)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    budgets = budgets_of(app)
    reservation = budgets.reserve(who, 100, 0.0)
    reservation.settle(Usage(30, 30, 0.0))
    reservation.release()  # a no-op: it was settled
    reservation.settle(Usage(30, 30, 0.0))  # a no-op too
    budgets.reserve(who, 40, 0.0)
    with pytest.raises(BudgetExceeded):
        budgets.reserve(who, 1, 0.0)


def test_leaving_the_block_without_settling_releases(limited_app: Callable[..., Flask]) -> None:
    app = limited_app(budget_key_tokens_per_minute=100)
    who = principal_of(provision(app.extensions["workjet"].store, "acme", "ann@acme.test"))
    budgets = budgets_of(app)
    with pytest.raises(RuntimeError), budgets.reserve(who, 100, 0.0):
        raise RuntimeError("provider failed")
    budgets.reserve(who, 100, 0.0)


def test_windows_end_at_minute_day_and_month_boundaries() -> None:
    at = 1_767_225_599.5  # 2025-12-31 23:59:59.5 UTC
    assert window_id("minute", at) == (str(int(at // 60)), 1_767_225_600.0)
    assert window_id("day", at) == ("20251231", 1_767_225_600.0)
    assert window_id("month", at) == ("202512", 1_767_225_600.0)
    assert window_id("month", 1_767_225_600.0)[0] == "202601"
