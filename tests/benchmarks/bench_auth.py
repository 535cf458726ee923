"""Benchmark of the authentication step alone (prints numbers; not a test).

    .venv/bin/python tests/benchmarks/bench_auth.py [--n 20000]

Measures, on a fresh SQLite database with a few thousand keys and sessions:
- ``Authenticator.authenticate`` for an API key and for a session token (µs/call, calls/s),
- the database lookup inside it (``Store.credential_by_hash``: SQL compiled once, pooled
  DBAPI connection) against the same query built as a SQLAlchemy statement per call,
- the added cost per HTTP request: ``GET /api/v1/me`` with a bearer key minus an
  unauthenticated route of the same shape, through the Flask app (no network).
Each figure is the median of 5 rounds. Revocation is never delayed: nothing is cached.
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

from flask import Flask, jsonify

from gateway import create_app
from gateway.auth.keys import hash_secret
from gateway.auth.principal import current_principal
from gateway.auth.sessions import start_session
from gateway.config import Settings
from tests.gateway.server import provision


def per_call_us(fn: Callable[[], object], n: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--keys", type=int, default=2000, help="extra keys in the table")
    args = parser.parse_args()
    n = args.n

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            audit_url=(Path(tmp) / "audit").as_uri(), log_level="WARNING",
        )
        app: Flask = create_app({"settings": settings})
        services = app.extensions["workjet"]
        store = services.store
        store.migrate()
        for i in range(args.keys):  # a realistic table, not a single row
            provision(store, f"t{i % 50}", f"u{i}@t.test", "member")
        p = provision(store, "bench", "bench@t.test", "owner")
        token, _ = start_session(store.tenant(p.tenant_id), p.user_id, kind="device",
                                 client_name="bench", pepper="")
        auth = services.authenticator
        assert auth.authenticate(p.key) is not None and auth.authenticate(token) is not None
        key_hash = hash_secret(p.key)

        generic = per_call_us(lambda: store.api_key_by_hash(key_hash), n)
        lookup = per_call_us(lambda: store.credential_by_hash("api_key", key_hash), n)
        hashing = per_call_us(lambda: hash_secret(p.key), n)
        key_auth = per_call_us(lambda: auth.authenticate(p.key), n)
        sess_auth = per_call_us(lambda: auth.authenticate(token), n)

        @app.get("/bench/open")
        def _open() -> object:
            return jsonify(ok=True)

        @app.get("/bench/authed")
        def _authed() -> object:
            current_principal()
            return jsonify(ok=True)

        client = app.test_client()
        headers = {"Authorization": f"Bearer {p.key}"}
        assert client.get("/bench/authed", headers=headers).status_code == 200
        m = max(n // 5, 1000)
        open_us = per_call_us(lambda: client.get("/bench/open", headers=headers), m)
        authed_us = per_call_us(lambda: client.get("/bench/authed", headers=headers), m)
        services.close()

    print(f"database: SQLite (WAL), {args.keys + 1} keys; {n} calls x 5 rounds, median")
    print(f"  hash (SHA-256) of the key        {hashing:8.1f} µs")
    print(f"  DB lookup, SQLAlchemy statement  {generic:8.1f} µs  (built per call)")
    print(f"  DB lookup, credential_by_hash    {lookup:8.1f} µs  ({1e6 / lookup:,.0f}/s)")
    print(f"  authenticate(API key)            {key_auth:8.1f} µs  ({1e6 / key_auth:,.0f}/s)")
    print(f"  authenticate(session token)      {sess_auth:8.1f} µs  ({1e6 / sess_auth:,.0f}/s)")
    print(f"  HTTP request, no auth            {open_us:8.1f} µs  ({1e6 / open_us:,.0f} req/s)")
    print(f"  HTTP request, bearer API key     {authed_us:8.1f} µs  ({1e6 / authed_us:,.0f} req/s)")
    print(f"  added per request by auth        {authed_us - open_us:8.1f} µs")


if __name__ == "__main__":
    main()
