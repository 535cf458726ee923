"""Client benchmarks: cold start, keystroke latency while streaming, a 5,000-message chat.

Run: .venv/bin/python tests/benchmarks/bench_client.py
Prints numbers; not a test. The gateway is the loopback fake of our own API
(tests/client/fake_gateway.py), so the numbers are the client's own costs.

1. Cold start: the installed `workjet` in tmux at 80x24, from launch until the sign-in
   screen is on the terminal (capture-pane polled every 5 ms); and in process, from
   creating the app until the chat screen is ready with the model list.
2. Keystroke latency while an answer streams at 200 tokens/s: time from a key press
   until the prompt holds the character, measured with Pilot during the stream.
3. Opening a conversation of 5,000 messages: loading the file, then showing it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual import events

from client.app import AppConfig, create_app
from client.history import History
from client.keychain import MemoryKeychain, account_for
from client.screens.chat import ChatScreen
from client.settings import Settings
from client.widgets.prompt_input import PromptInput
from shared.chat import Message, TextPart
from tests.client.fake_gateway import API_KEY, FakeGateway


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _app(gateway_url: str, tmp: Path):  # type: ignore[no-untyped-def]
    keychain = MemoryKeychain()
    keychain.set(account_for(gateway_url), API_KEY)
    return create_app(AppConfig(settings=Settings(gateway_url=gateway_url),
                                history=History(tmp / "conversations").open(),
                                keychain=keychain, settings_file=tmp / "settings.json"))


async def _wait(pilot, condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await pilot.pause(0.001)


def cold_start_tmux(gateway_url: str, runs: int = 5) -> list[float]:
    workjet = Path(sys.executable).with_name("workjet")
    if not workjet.exists() or shutil.which("tmux") is None:
        print("cold start (tmux): skipped, needs the installed `workjet` and tmux")
        return []
    times = []
    for i in range(runs):
        home = Path(tempfile.mkdtemp())
        base = ["tmux", "-L", f"wj-bench-{os.getpid()}-{i}", "-f", "/dev/null"]
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "c"),
               "XDG_DATA_HOME": str(home / "d"), "TERM": "xterm-256color"}
        start = time.perf_counter()
        subprocess.run([*base, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24",
                        f"{workjet} --memory-only --gateway {gateway_url}; sleep 30"],
                       env=env, check=True)
        try:
            while True:
                screen = subprocess.run([*base, "capture-pane", "-t", "b", "-p"],
                                        capture_output=True, text=True).stdout
                if "Sign in to your Workjet gateway" in screen:
                    times.append(time.perf_counter() - start)
                    break
                if time.perf_counter() - start > 30:
                    raise TimeoutError(screen)
                time.sleep(0.005)
        finally:
            subprocess.run([*base, "kill-server"], capture_output=True)
    return times


async def start_in_process(gateway_url: str, tmp: Path) -> float:
    start = time.perf_counter()
    app = _app(gateway_url, tmp)
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.models)
        return time.perf_counter() - start


async def keystroke_latency(gateway: FakeGateway, tmp: Path) -> tuple[list[float], float]:
    gateway.token_delay = 1 / 200  # 200 tokens per second
    paragraph = "word " * 50 + "`code` **bold**\n\n"
    gateway.answer = lambda prompt, model: (paragraph * 5 + "```py\nprint(1)\n```\n\n") * 40
    app = _app(gateway.url, tmp)
    samples: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.models)
        chat = app.screen
        prompt = chat.query_one(PromptInput)
        prompt.insert("stream please")
        await pilot.press("enter")
        await _wait(pilot, lambda: chat.answer_view is not None and chat.answer_view.text)
        stream_start = time.perf_counter()
        for i in range(40):
            key = "abcdefghij"[i % 10]
            before = len(prompt.text)
            t0 = time.perf_counter()
            # Post the key as the terminal driver would (pilot.press waits for the app
            # to go idle, which never happens while an answer streams).
            app.post_message(events.Key(key, key))
            while len(prompt.text) <= before:
                await asyncio.sleep(0.0005)
            samples.append(time.perf_counter() - t0)
            await pilot.pause(0.02)
        assert chat.exchange is not None, "the answer ended before the measurement did"
        streamed = len(chat.answer_view.text.split()) if chat.answer_view else 0
        rate = streamed / (time.perf_counter() - stream_start)
        await pilot.press("escape")
    return samples, rate


async def open_long_conversation(gateway_url: str, tmp: Path) -> tuple[float, float, int]:
    app = _app(gateway_url, tmp)
    history = app.config.history
    conv = history.new("Five thousand", model="claude-emulated")
    body = "Some *markdown* with `code` and a list:\n\n- one\n- two\n\n" + "text " * 30
    messages = tuple(Message("user" if i % 2 == 0 else "assistant", (TextPart(f"{i}: {body}"),))
                     for i in range(5000))
    history.save(type(conv)(conv.id, conv.title, conv.created, conv.updated, conv.model,
                            messages))
    size = (history.directory / f"{conv.id}.json").stat().st_size
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        t0 = time.perf_counter()
        loaded = history.load(conv.id)
        t1 = time.perf_counter()
        await chat.open_conversation(loaded)
        await pilot.pause(0)
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, size


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, shared with other work; numbers are noisy")
    with FakeGateway() as gateway:
        tmux_times = cold_start_tmux(gateway.url)
        if tmux_times:
            print(f"cold start, `workjet` process to sign-in screen in tmux 80x24: "
                  f"median {statistics.median(tmux_times) * 1000:.0f} ms, "
                  f"min {min(tmux_times) * 1000:.0f} ms, max {max(tmux_times) * 1000:.0f} ms "
                  f"({len(tmux_times)} runs)")
        starts = [asyncio.run(start_in_process(gateway.url, Path(tempfile.mkdtemp())))
                  for _ in range(3)]
        print(f"in-process app to chat screen with models (headless): median "
              f"{statistics.median(starts) * 1000:.0f} ms")
        samples, rate = asyncio.run(keystroke_latency(gateway, Path(tempfile.mkdtemp())))
        print(f"keystroke latency while streaming (~{rate:.0f} words/s arriving): "
              f"p50 {_pct(samples, 0.5) * 1000:.1f} ms, p95 {_pct(samples, 0.95) * 1000:.1f} ms, "
              f"max {max(samples) * 1000:.1f} ms ({len(samples)} keys)")
    with FakeGateway() as gateway:
        load, show, size = asyncio.run(open_long_conversation(gateway.url,
                                                              Path(tempfile.mkdtemp())))
        print(f"open a 5,000-message conversation ({size / 1e6:.1f} MB file): load "
              f"{load * 1000:.0f} ms + show (last 20 rendered) {show * 1000:.0f} ms = "
              f"{(load + show) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
