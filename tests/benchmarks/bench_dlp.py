"""DLP throughput and latency on one core.

    .venv/bin/python tests/benchmarks/bench_dlp.py [--mb 4] [--repeat 5]

Builds a mixed corpus (chat text, source code, logs, JSON; a few secrets and personal
data sprinkled in, as real traffic has), then prints:
  - throughput in MB/s over the corpus, with evasion normalisation on and off;
  - the same over a non-ASCII corpus (accents, CJK, Cyrillic), where normalisation works;
  - latency (median, p95) of scan_text on a 1 KB and a 100 KB message, normalisation on/off;
  - latency of scan_request on a typical 1.5 KB chat request.
Numbers are medians of --repeat runs; the machine may be shared, so compare within a run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

from gateway.dlp import DlpEngine, DlpPolicy
from shared.chat import ChatRequest, Message, TextPart

WORDS = (  # noqa: SIM905 - a sentence reads better than 120 quoted words
    "the a of to and in is it you that he was for on are with as his they be at one have "
    "this from or had by word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them "
    "write would like so these her long make thing see him two has look more day could "
    "go come deploy service request config cluster error retry timeout function module "
    "test build "
).split()


def chat(rng: random.Random, n: int) -> str:
    out = []
    while sum(map(len, out)) < n:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
        out.append(sentence.capitalize() + rng.choice([".", "?", "!"]) + " ")
    return "".join(out)


def code(rng: random.Random, n: int) -> str:
    lines = []
    while sum(map(len, lines)) < n:
        name = "_".join(rng.choice(WORDS) for _ in range(2))
        lines.append(
            f"def {name}(self, value: int = {rng.randint(0, 999)}) -> dict[str, Any]:\n"
            f'    result = self.client.get(f"/api/v1/{name}/{{value}}", timeout=30)\n'
            f"    if result.status_code != 200:  # retry once\n"
            f'        raise RuntimeError("{name} failed")\n'
            f'    return {{"id": "{rng.getrandbits(64):016x}", "n": value * 2}}\n\n'
        )
    return "".join(lines)


def logs(rng: random.Random, n: int) -> str:
    lines = []
    while sum(map(len, lines)) < n:
        lines.append(
            f"2026-12-03T10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
            f"{rng.randint(0, 999):03d}Z "
            f"{rng.choice(['INFO', 'WARN', 'ERROR'])} worker-{rng.randint(1, 8)} "
            f"request_id={rng.getrandbits(96):024x} path=/api/v1/{rng.choice(WORDS)} "
            f"status={rng.choice([200, 200, 201, 404, 500])} took={rng.randint(1, 900)}ms "
            f"client=10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}\n"
        )
    return "".join(lines)


def json_doc(rng: random.Random, n: int) -> str:
    items = []
    while sum(map(len, items)) < n:
        items.append(
            json.dumps(
                {
                    "id": rng.getrandbits(48),
                    "name": " ".join(rng.choice(WORDS) for _ in range(3)),
                    "tags": [rng.choice(WORDS) for _ in range(4)],
                    "score": rng.random(),
                    "created": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "enabled": rng.random() > 0.5,
                }
            )
        )
    return "[" + ",\n".join(items) + "]"


def sprinkle(rng: random.Random, text: str) -> str:
    """A few findings per 10 KB, as in real traffic."""
    samples = [
        "jane.doe@example.org",
        "+1 415-555-2671",
        "AKIAQWERTYUIOPASDFGH",
        "postgres://app:Xk9fjs8dKs@db:5432/app",
        "4539 1488 0343 6467",
    ]
    parts = text.split("\n")
    for _ in range(max(1, len(text) // 4000)):
        i = rng.randrange(len(parts))
        parts[i] += " " + rng.choice(samples)
    return "\n".join(parts)


def corpus(rng: random.Random, size: int) -> str:
    makers = [chat, code, logs, json_doc]
    pieces = []
    while sum(map(len, pieces)) < size:
        pieces.append(sprinkle(rng, rng.choice(makers)(rng, rng.randint(2000, 20000))))
    return "".join(pieces)[:size]


def non_ascii(rng: random.Random, size: int) -> str:
    words = [
        "café", "naïve", "Grüße", "прошу", "помощь", "東京", "データ", "서울", "ñandú",
        "résumé", "Ωmega", "straße", "jalapeño", *WORDS,
    ]
    out = []
    while sum(map(len, out)) < size:
        out.append(" ".join(rng.choice(words) for _ in range(12)) + ". ")
    return "".join(out)[:size]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm up
    result = []
    for _ in range(repeat):
        start = time.process_time()  # CPU time of this process: one core
        fn()
        result.append(time.process_time() - start)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(1)
    size = int(args.mb * 1_000_000)
    mixed, intl = corpus(rng, size), non_ascii(rng, size // 4)
    engines = {
        "normalisation on ": DlpEngine.from_policy(DlpPolicy()),
        "normalisation off": DlpEngine.from_policy(DlpPolicy(normalize=False)),
    }
    chunk = 20_000  # scanned as messages of 20 KB, as requests would be
    print(
        f"corpus: {len(mixed) / 1e6:.1f} MB mixed (chat, code, logs, JSON), "
        f"{len(intl) / 1e6:.1f} MB non-ASCII; one core (CPU time); median of {args.repeat}"
    )
    for label, engine in engines.items():
        for name, text in (("mixed", mixed), ("non-ASCII", intl)):
            pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]

            def run(pieces: list[str] = pieces, engine: DlpEngine = engine) -> None:
                for p in pieces:
                    engine.scan_text(p)

            t = statistics.median(timed(run, args.repeat))
            print(f"  throughput {label} {name:9s}: {len(text) / 1e6 / t:7.1f} MB/s")
    for label, engine in engines.items():
        for size_label, n in (("1 KB", 1000), ("100 KB", 100_000)):
            msgs = [corpus(random.Random(i), n) for i in range(20)]
            times: list[float] = []
            for m in msgs:
                times.extend(timed(lambda m=m, engine=engine: engine.scan_text(m), 5))
            times.sort()
            print(
                f"  latency {label} {size_label:6s}: "
                f"median {statistics.median(times) * 1e3:7.3f} ms"
                f"  p95 {times[int(len(times) * 0.95)] * 1e3:7.3f} ms"
            )
    engine = engines["normalisation on "]
    req = ChatRequest(
        "m",
        (
            Message("system", (TextPart("You are a helpful assistant for the platform team."),)),
            Message("user", (TextPart(chat(random.Random(3), 700)),)),
            Message("assistant", (TextPart(chat(random.Random(4), 400)),)),
            Message("user", (TextPart(chat(random.Random(5), 400) + " mail me at ann@acme.io"),)),
        ),
    )
    n = 2000
    start = time.process_time()
    for _ in range(n):
        engine.scan_request(req)
    per = (time.process_time() - start) / n
    chars = sum(len(p.text) for m in req.messages for p in m.content if isinstance(p, TextPart))
    print(f"  scan_request on a typical {chars / 1000:.1f} KB chat request: {per * 1e3:.3f} ms")
    streaming = DlpEngine.from_policy(DlpPolicy(scan_responses=True))
    answer = chat(random.Random(6), 2000)
    chunks = [answer[i : i + 20] for i in range(0, len(answer), 20)]
    n = 200
    start = time.process_time()
    for _ in range(n):
        flt = streaming.response_filter()
        for c in chunks:
            flt.feed(c)
        flt.flush()
    per = (time.process_time() - start) / n
    print(
        f"  response filter, 2 KB answer in {len(chunks)} chunks: {per * 1e3:.3f} ms "
        f"({per / len(chunks) * 1e3:.4f} ms per chunk)"
    )


if __name__ == "__main__":
    main()
