"""Benchmark of the limit checks alone (prints numbers; not a test).

    .venv/bin/python tests/benchmarks/bench_limits.py [--n 3000]

Contestants, each ``GET /api/v1/me`` with a bearer API key through the Flask app (no
network), so the difference between them is what the limits add per request:
- limits off (every per-minute limit 0): auth + view, the baseline;
- request limits (key, user, tenant) with ``memory://``;
- the same with ``redis://`` on loopback (a redis-server this script starts);
and, called directly, a budget ``reserve`` + ``settle`` with tokens-per-minute and daily
spend for key, user and tenant (6 counters, one Lua call each way) in memory and Redis.
Figures are medians of 5 rounds: wall µs per request and this process' CPU µs per
request (Redis' own CPU is not included). The machine is shared: compare within one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flask import Flask

from gateway import create_app
from gateway.budgets import Budgets
from gateway.config import Settings
from shared.chat import Usage
from tests.gateway.limits.support import principal_of
from tests.gateway.server import provision
from tests.services import RedisServer

HIGH = 10**9  # never reached: we measure the checks, not refusals


def interleaved(fns: dict[str, Callable[[], object]], n: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU µs per call over 5 rounds, the contestants taking turns within
    each round so that the shared machine's drift hits them alike."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(5):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                fn()
            samples[name].append(((time.perf_counter() - w0) / n * 1e6,
                                  (time.process_time() - c0) / n * 1e6))
    return {name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
            for name, got in samples.items()}


def redis_scripts(redis: RedisServer) -> int:
    """Script calls (each one round trip); the limits send no other commands per request."""
    stats = redis.client().info("commandstats")
    return sum(int(stats[name]["calls"]) for name in ("cmdstat_evalsha", "cmdstat_eval")
               if name in stats)


def make_app(tmp: Path, name: str, **changes: object) -> Flask:
    settings = Settings(
        database_url=f"sqlite:///{tmp / f'{name}.db'}", audit_url=(tmp / "audit").as_uri(),
        log_level="WARNING",
    ).replace(**changes)
    app = create_app({"settings": settings})
    app.extensions["workjet"].store.migrate()
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    n = parser.parse_args().n
    off = {"ratelimit_key_per_minute": 0, "ratelimit_user_per_minute": 0,
           "ratelimit_tenant_per_minute": 0, "ratelimit_anonymous_per_minute": 0}
    on = {"ratelimit_key_per_minute": HIGH, "ratelimit_user_per_minute": HIGH,
          "ratelimit_tenant_per_minute": HIGH}
    budgets_on = {f"budget_{s}_{w}": HIGH for s in ("key", "user", "tenant")
                  for w in ("tokens_per_minute", "daily")}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        redis = RedisServer(tmp / "redis")
        redis.start()
        try:
            contestants = {
                "limits off (auth + view)": make_app(tmp, "off", **off),
                "request limits, memory://": make_app(tmp, "mem", **on),
                "request limits, redis:// loopback": make_app(
                    tmp, "redis", ratelimit_storage_uri=redis.url, **on),
            }
            calls: dict[str, Callable[[], object]] = {}
            for label, app in contestants.items():
                who = provision(app.extensions["workjet"].store, "acme", "ann@acme.test")
                client = app.test_client()
                headers = {"Authorization": f"Bearer {who.key}"}
                assert client.get("/api/v1/me", headers=headers).status_code == 200
                calls[label] = lambda c=client, h=headers: c.get("/api/v1/me", headers=h)
            redis.client().config_resetstat()
            for _ in range(100):
                calls["request limits, redis:// loopback"]()
            per_request = redis_scripts(redis) / 100
            print(f"GET /api/v1/me, {n} requests x 5 interleaved rounds, medians")
            results = interleaved(calls, n)
            base = results["limits off (auth + view)"]
            for label, (wall, cpu) in results.items():
                extra = "" if label.startswith("limits off") else \
                    f"  added: {wall - base[0]:+7.1f} µs wall, {cpu - base[1]:+7.1f} µs CPU"
                print(f"  {label:<36} {wall:8.1f} µs wall {cpu:8.1f} µs CPU{extra}")
            print(f"  Redis round trips (script calls) per request: {per_request:.1f}")
            print(f"budget reserve + settle (6 counters), {n} x 5 interleaved rounds, medians")
            cycles: dict[str, Callable[[], object]] = {}
            for label, uri in (("memory://", "memory://"), ("redis:// loopback", redis.url)):
                app = make_app(tmp, f"b{len(label)}", ratelimit_storage_uri=uri, **budgets_on)
                budgets: Budgets = app.extensions["workjet"].budgets
                who = principal_of(provision(app.extensions["workjet"].store, "acme",
                                             "ann@acme.test"))
                usage = Usage(100, 50, 0.001)

                def cycle(b: Budgets = budgets, p: object = who, u: Usage = usage) -> None:
                    b.reserve(p, 1000, 0.01, model="m").settle(u)  # type: ignore[arg-type]

                cycles[label] = cycle
            for label, (wall, cpu) in interleaved(cycles, n).items():
                print(f"  {label:<36} {wall:8.1f} µs wall {cpu:8.1f} µs CPU")
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
