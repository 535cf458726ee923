"""The emulators as a WSGI app for gunicorn (benchmarks), configured by environment.

``EMULATOR_LATENCY`` (seconds before each answer), ``EMULATOR_CHUNK_DELAY`` (seconds
between streamed chunks), ``EMULATOR_PIECES`` (chunks per answer), ``EMULATOR_API_KEY``.
Test code only: the gateway itself never reads these.
"""

from __future__ import annotations

import os

from tests.emulators.behaviour import Behaviour, EmulatorState
from tests.emulators.server import create_emulator_app


def _app_from_env() -> object:
    state = EmulatorState(os.environ.get("EMULATOR_API_KEY", "test-provider-key"))
    pieces = os.environ.get("EMULATOR_PIECES")
    state.default = Behaviour(latency=float(os.environ.get("EMULATOR_LATENCY", "0")),
                              chunk_delay=float(os.environ.get("EMULATOR_CHUNK_DELAY", "0")),
                              pieces=int(pieces) if pieces else None)
    state.record_requests = False  # a long benchmark must not grow memory
    return create_emulator_app(state)


app = _app_from_env()
