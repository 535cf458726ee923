"""Private files written atomically: a reader sees the old file or the new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it readable by its owner only."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600: temporary file, fsync, rename, fsync dir."""
    directory = ensure_private_dir(path.parent)
    # mkstemp creates the file with mode 0600 before any byte is written.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(directory: Path) -> int:
    """Delete temporary files left by a writer that was killed; returns how many."""
    removed = 0
    if not directory.is_dir():
        return 0
    for entry in directory.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            removed += 1
    return removed
