"""Where the client keeps its files: the XDG base directories, read when asked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_DIR = "workjet"


def _base(env: Mapping[str, str], var: str, fallback: str) -> Path:
    value = env.get(var, "")
    # The spec says relative values are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / fallback


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    return _base(os.environ if env is None else env, "XDG_CONFIG_HOME", ".config") / APP_DIR


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    return _base(os.environ if env is None else env, "XDG_DATA_HOME", ".local/share") / APP_DIR


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    return _base(os.environ if env is None else env, "XDG_STATE_HOME", ".local/state") / APP_DIR
