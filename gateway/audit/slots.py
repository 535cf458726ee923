"""Spool slots: one directory per live worker, claimed with an exclusive ``flock``.

A worker takes the lowest free slot ``w0``, ``w1``, ... and keeps its lock for life.
The kernel drops the lock when the process dies (even by SIGKILL), so the next worker
that starts takes the slot over together with any segments left in it and ships them.
The slot name is the ``<worker>`` part of object names, so a stream keeps its name and
its hash chain across restarts.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

_SLOT = re.compile(r"^w(\d+)$")
MAX_SLOTS = 1024


@dataclass
class Slot:
    name: str
    directory: Path
    _fd: int

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1


def try_claim(directory: Path) -> Slot | None:
    """Lock ``directory`` for this process, or ``None`` if a live process holds it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return Slot(directory.name, directory, fd)


def claim(root: Path) -> Slot:
    """The lowest free slot under ``root``."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for n in range(MAX_SLOTS):
        slot = try_claim(root / f"w{n}")
        if slot is not None:
            return slot
    raise RuntimeError(f"all {MAX_SLOTS} audit spool slots under {root} are in use")


def others(root: Path, mine: str) -> list[Path]:
    """Slot directories other than ``mine`` (candidates for adopting leftovers)."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and _SLOT.match(p.name) and p.name != mine]
    return sorted(found, key=lambda p: int(p.name[1:]))
