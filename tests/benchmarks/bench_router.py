"""Benchmark of the model router path (prints a table; not a test).

    .venv/bin/python -m tests.benchmarks.bench_router [--duration 2] [--reps 3] [--quick]

Three contestants in one run, each under gunicorn (gthread, one worker, 64 threads):
- ``direct``: the OpenAI-protocol emulator itself (the baseline),
- ``bare``: a bare Flask pass-through proxy with a pooled requests.Session (trust_env=False),
- ``workjet``: the gateway as deployed (``workjet-gateway serve``: API-key auth, rate
  limits, policy, DLP when wired, router, audit spool) on ``POST /v1/chat/completions``.
Against the emulator answering at once and after 50 ms, at 1, 16 and 64 concurrent
clients, non-streaming (full answer) and streaming (time to first byte of the body,
20 chunks per answer). Columns: requests/s, p50 and p99 latency, the added p50/p99 over
``direct``, CPU ms per request of the contestant's gunicorn worker (from /proc), and that
CPU as a multiple of ``bare``'s in the same cell (the team's bar: 2 ms where bare costs
about 1.2 ms, i.e. at most about 1.7x).
The load generator shares the machine's cores with the servers: compare within one run.
Machines drift by 10-25 % within minutes, so each cell runs the contestants in turn
``--reps`` times and reports the median CPU per request (latencies over all repetitions).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.gateway.server import GatewayServer, provision
from tests.services.process import can_connect, free_port

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
KEY = "bench-provider-key"
CATALOG = {"models": [{"id": "gpt-bench", "provider": "openai", "upstream": "gpt-up",
                       "context_window": 128000, "input_price_per_mtok": 1.0,
                       "output_price_per_mtok": 2.0}]}
PROMPT = "please answer with exactly twenty short words so that the stream has many chunks"


def gunicorn(module: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cmd = [PY, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", "64",
           "-b", f"127.0.0.1:{port}", "--keep-alive", "5", module]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env},
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not can_connect("127.0.0.1", port):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"{module} did not start; see {log}")
        time.sleep(0.05)
    return proc


def worker_cpu_seconds(master: int) -> float:
    """utime + stime of the master's children (the gunicorn workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def body(stream: bool) -> bytes:
    return json.dumps({"model": "gpt-bench", "stream": stream,
                       "messages": [{"role": "user", "content": PROMPT}]}).encode()


def client(port: int, path: str, token: str, payload: bytes, stream: bool, stop_at: float,
           out: list[float], errors: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        try:
            conn.request("POST", path, payload, headers)
            resp = conn.getresponse()
            if stream:
                resp.read1(65536)  # the first bytes of the body: time to first byte
                elapsed = time.perf_counter() - started
                resp.read()
            else:
                resp.read()
                elapsed = time.perf_counter() - started
            if resp.status != 200:
                errors.append(resp.status)
                continue
            out.append(elapsed)
        except (OSError, http.client.HTTPException):
            errors.append(0)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def run(port: int, path: str, token: str, stream: bool, concurrency: int, duration: float,
        master: int, samples: list[float] | None = None) -> dict[str, Any]:
    """One timed run; its latencies are added to ``samples`` (kept across repetitions)."""
    payload = body(stream)
    warm: list[float] = []
    client(port, path, token, payload, stream, time.perf_counter() + 0.3, warm, [])
    samples = [] if samples is None else samples
    before = len(samples)
    errors: list[int] = []
    cpu0 = worker_cpu_seconds(master)
    stop_at = time.perf_counter() + duration
    threads = [threading.Thread(target=client, args=(port, path, token, payload, stream,
                                                     stop_at, samples, errors))
               for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cpu = worker_cpu_seconds(master) - cpu0
    n = len(samples) - before
    ordered = sorted(samples)
    total = len(ordered)
    return {"rps": n / wall, "n": n, "errors": len(errors),
            "p50": statistics.median(ordered) * 1000 if total else float("nan"),
            "p99": ordered[min(total - 1, int(total * 0.99))] * 1000 if total else float("nan"),
            "cpu_ms": cpu * 1000 / n if n else float("nan")}


def cell(contestants: Sequence[tuple[str, int, str, int | None]], stream: bool, concurrency: int,
         duration: float, reps: int) -> dict[str, dict[str, Any]]:
    """Each contestant ``reps`` times in turn: median CPU and rate, latencies of all runs."""
    samples: dict[str, list[float]] = {name: [] for name, *_ in contestants}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in contestants}
    for _ in range(reps):
        for name, port, tok, pid in contestants:
            assert pid is not None
            runs[name].append(run(port, "/v1/chat/completions", tok, stream, concurrency,
                                  duration, pid, samples[name]))
    return {name: {**got[-1],  # p50/p99 of the last run cover every run's samples
                   "rps": statistics.median(r["rps"] for r in got),
                   "cpu_ms": statistics.median(r["cpu_ms"] for r in got),
                   "errors": sum(r["errors"] for r in got)}
            for name, got in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per run")
    parser.add_argument("--reps", type=int, default=3, help="runs per contestant and cell")
    parser.add_argument("--quick", action="store_true", help="concurrency 1 and 16 only")
    args = parser.parse_args()
    concurrencies = (1, 16) if args.quick else (1, 16, 64)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "catalog.json").write_text(json.dumps(CATALOG))
        for latency in (0.0, 0.05):
            emu_port, bare_port = free_port(), free_port()
            emu = gunicorn("tests.emulators.wsgi:app", emu_port, {
                "EMULATOR_LATENCY": str(latency), "EMULATOR_PIECES": "20",
                "EMULATOR_API_KEY": KEY}, work / "emulator.log")
            bare = gunicorn("tests.benchmarks.bare_proxy:app", bare_port, {
                "BARE_PROXY_UPSTREAM": f"http://127.0.0.1:{emu_port}"}, work / "bare.log")
            gw = GatewayServer(work / f"gw{latency}", {
                "WORKJET_OPENAI_BASE_URL": f"http://127.0.0.1:{emu_port}/v1",
                "WORKJET_OPENAI_API_KEY": KEY,
                "WORKJET_ROUTER_CATALOG": str(work / "catalog.json"),
                "WORKJET_THREADS": "64",
                # limits on (counted every request) but too high to refuse: "everything on"
                **{f"WORKJET_RATELIMIT_{scope}_PER_MINUTE": str(10**9)
                   for scope in ("KEY", "USER", "TENANT")},
                "WORKJET_BUDGET_TENANT_TOKENS_PER_MINUTE": str(10**12)})
            (work / f"gw{latency}").mkdir(exist_ok=True)
            gw.start()
            token = provision(gw.store, "bench", "bench@bench.test", "member").key
            assert gw.pid is not None
            contestants = [("direct", emu_port, KEY, emu.pid), ("bare", bare_port, KEY, bare.pid),
                           ("workjet", gw.port, token, gw.pid)]
            try:
                for stream in (False, True):
                    for c in concurrencies:
                        base = bare_cpu = None
                        results = cell(contestants, stream, c, args.duration, args.reps)
                        for name, *_ in contestants:
                            r = results[name]
                            base = base or r
                            if name == "bare":
                                bare_cpu = r["cpu_ms"]
                            rows.append((latency, "stream" if stream else "whole", c, name, r,
                                         r["p50"] - base["p50"], r["p99"] - base["p99"],
                                         r["cpu_ms"] / bare_cpu if bare_cpu else float("nan")))
                            print(_row(rows[-1]), flush=True)
            finally:
                gw.stop()
                for proc in (emu, bare):
                    proc.terminate()
                    proc.wait(10)
    print()
    print(HEADER)
    for row in rows:
        print(_row(row))


HEADER = (f"{'latency':>7} {'mode':>6} {'conc':>4} {'who':>8} {'req/s':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'+p50':>7} {'+p99':>7} {'cpu ms/req':>10} {'x bare':>6} {'err':>4}")


def _row(row: tuple[Any, ...]) -> str:
    latency, mode, c, name, r, add50, add99, ratio = row
    return (f"{latency * 1000:>5.0f}ms {mode:>6} {c:>4} {name:>8} {r['rps']:>8.0f} "
            f"{r['p50']:>8.2f} {r['p99']:>8.2f} {add50:>+7.2f} {add99:>+7.2f} "
            f"{r['cpu_ms']:>10.2f} {ratio:>6.2f} {r['errors']:>4}")


if __name__ == "__main__":
    main()
