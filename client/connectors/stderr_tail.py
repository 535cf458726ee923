"""Keep the last lines a connector wrote to stderr, and notice when the child is gone.

The SDK hands ``errlog`` to the child as its stderr, so it must be a real file descriptor:
we give it the write end of a pipe and read the other end in a thread. End of file on the
pipe means every process holding it (the server and anything it spawned) has exited, which
is how an unexpected crash is noticed even when no call is in flight.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import TextIO

TAIL_LINES = 20
MAX_LINE_CHARS = 400


class StderrTail:
    def __init__(self, on_eof: Callable[[], None] | None = None, lines: int = TAIL_LINES) -> None:
        read_fd, write_fd = os.pipe()
        self._lines: deque[str] = deque(maxlen=lines)
        self._lock = threading.Lock()
        self._on_eof = on_eof
        self.eof = threading.Event()
        self.inode = os.fstat(write_fd).st_ino
        self.writer: TextIO | None = os.fdopen(write_fd, "w")
        self._reader = os.fdopen(read_fd, "rb")
        self._thread = threading.Thread(target=self._pump, name="mcp-stderr", daemon=True)
        self._thread.start()

    def close_writer(self) -> None:
        """Drop the parent's copy of the write end once the child holds its own."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def lines(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._lines)

    def wait_closed(self, timeout: float) -> bool:
        return self.eof.wait(timeout)

    def _pump(self) -> None:
        try:
            for raw in self._reader:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if len(line) > MAX_LINE_CHARS:
                    line = line[:MAX_LINE_CHARS] + "…"
                with self._lock:
                    self._lines.append(line)
        except (OSError, ValueError):
            pass  # the read end was closed under us: treat as end of file
        finally:
            self._reader.close()
            self.eof.set()
            if self._on_eof is not None:
                self._on_eof()


def child_pid_with_stderr(inode: int) -> int | None:
    """The PID of our child process whose fd 2 is the pipe with this inode (Linux /proc)."""
    want = f"pipe:[{inode}]"
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as fh:
                pids = fh.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                if os.readlink(f"/proc/{pid}/fd/2") == want:
                    return int(pid)
            except OSError:
                continue
    return None
