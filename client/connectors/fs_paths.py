"""Path confinement for the Local FS connector: nothing outside the chosen folders.

Every path is resolved to its real path (``..`` collapsed, every symlink followed) and must
then lie under one of the roots' real paths, compared with ``os.path.commonpath``. A file
is opened and its descriptor's real path checked again, so a symlink swapped in between the
check and the open is refused too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


class OutsideRootsError(PermissionError):
    """The path leads outside the folders the person shared."""


class Roots:
    def __init__(self, roots: Iterable[str | Path]) -> None:
        resolved = []
        for root in roots:
            real = os.path.realpath(os.fspath(root))
            if not os.path.isdir(real):
                raise ValueError(f"{root} is not a folder")
            resolved.append(real)
        if not resolved:
            raise ValueError("give at least one --root folder")
        self.paths: tuple[str, ...] = tuple(resolved)

    def contains(self, real: str) -> bool:
        return any(_under(real, root) for root in self.paths)

    def resolve(self, path: str) -> str:
        """The real path of ``path`` (absolute, or relative to the first root) if allowed."""
        if "\x00" in path:
            raise OutsideRootsError("invalid path")
        base = path if os.path.isabs(path) else os.path.join(self.paths[0], path)
        real = os.path.realpath(base)
        if not self.contains(real):
            raise OutsideRootsError(f"{path} is outside the shared folders")
        return real

    def open_file(self, path: str) -> tuple[str, int]:
        """Open a regular file for reading; returns its real path and the descriptor."""
        real = self.resolve(path)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(real, flags)
        try:
            proc = f"/proc/self/fd/{fd}"
            again = os.path.realpath(proc) if os.path.exists(proc) else real
            if not self.contains(again):
                raise OutsideRootsError(f"{path} is outside the shared folders")
            if not os_is_regular(fd):
                raise IsADirectoryError(f"{path} is not a regular file")
        except BaseException:
            os.close(fd)
            raise
        return real, fd

    def walk_files(self, start: str, limit: int) -> Iterator[str]:
        """Real paths of regular files under ``start``; symlinks are not followed."""
        count = 0
        for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if os.path.islink(full) or not self.contains(os.path.realpath(full)):
                    continue
                count += 1
                if count > limit:
                    return
                yield full


def os_is_regular(fd: int) -> bool:
    import stat

    return stat.S_ISREG(os.fstat(fd).st_mode)


def _under(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives, or a mix of absolute and relative paths
        return False
