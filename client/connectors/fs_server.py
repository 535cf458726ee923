"""The Local FS connector: Workjet's own MCP server giving read-only access to chosen folders.

Run as ``python -m client.connectors.fs_server --root DIR [--root DIR ...]``. Three tools:
``list_directory``, ``read_file`` and ``search_files``; none writes anything. Every path
goes through ``fs_paths.Roots``, so ``..`` and symlinks that lead outside the roots are
refused. Sizes and counts are capped so one call cannot read a whole disk.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import stat
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from client.connectors.fs_paths import OutsideRootsError, Roots

MAX_READ_BYTES = 256 * 1024
MAX_LIST_ENTRIES = 1_000
MAX_SEARCH_RESULTS = 200
MAX_FILES_SCANNED = 20_000
MAX_SCAN_BYTES = 2 * 1024 * 1024  # per file, for content search
MAX_QUERY_CHARS = 500
T = TypeVar("T")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def build_server(roots: Roots) -> MCPServer:
    server: MCPServer = MCPServer(
        name="workjet-local-fs",
        instructions="Read-only access to these folders: " + ", ".join(roots.paths),
    )

    @server.tool(annotations=READ_ONLY)
    def list_directory(path: str = "") -> str:
        """List a folder's entries (name, type, size). Paths are absolute or relative to the
        first shared folder; an empty path lists the shared folders."""
        if not path:
            if len(roots.paths) > 1:
                return "\n".join(f"{p}/ (shared folder)" for p in roots.paths)
            path = roots.paths[0]
        real = _guard(roots.resolve, path)
        if not os.path.isdir(real):
            raise ToolError(f"{path} is not a folder")
        lines: list[str] = []
        with os.scandir(real) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if len(lines) >= MAX_LIST_ENTRIES:
                    lines.append(f"[… more than {MAX_LIST_ENTRIES} entries]")
                    break
                lines.append(_describe(entry, roots))
        return "\n".join(lines) or "(empty folder)"

    @server.tool(annotations=READ_ONLY)
    def read_file(path: str, offset: int = 0, max_bytes: int = MAX_READ_BYTES) -> str:
        """Read a text file (UTF-8), from byte `offset`, at most `max_bytes` bytes."""
        max_bytes = max(1, min(max_bytes, MAX_READ_BYTES))
        _real, fd = _guard(roots.open_file, path)
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            fh.seek(max(0, offset))
            data = fh.read(max_bytes)
        if b"\x00" in data[:8192]:
            raise ToolError(f"{path} looks like a binary file ({size} bytes); not shown")
        text = data.decode("utf-8", errors="replace")
        end = max(0, offset) + len(data)
        if end < size:
            text += f"\n[… {size - end} more bytes; read again with offset={end}]"
        return text

    @server.tool(annotations=READ_ONLY)
    def search_files(query: str, path: str = "", content: bool = False) -> str:
        """Find files under `path` whose name matches `query` (a glob like *.py, or a
        substring); with content=true, files whose text contains `query` instead."""
        if not query or len(query) > MAX_QUERY_CHARS:
            raise ToolError(f"query must be 1-{MAX_QUERY_CHARS} characters")
        starts = [_guard(roots.resolve, path)] if path else list(roots.paths)
        hits: list[str] = []
        needle = query.encode()
        for start in starts:
            for full in roots.walk_files(start, MAX_FILES_SCANNED):
                name = os.path.basename(full)
                if content:
                    found = _file_contains(full, needle)
                else:
                    found = fnmatch.fnmatch(name, query) or query.lower() in name.lower()
                if found:
                    hits.append(full)
                    if len(hits) >= MAX_SEARCH_RESULTS:
                        hits.append(f"[… stopped after {MAX_SEARCH_RESULTS} results]")
                        return "\n".join(hits)
        return "\n".join(hits) or "no match"

    return server


def _guard(fn: Callable[[str], T], path: str) -> T:
    """Run a path operation, turning refusals and OS errors into a message for the model."""
    try:
        return fn(path)
    except OutsideRootsError as exc:
        raise ToolError(f"refused: {exc}") from None
    except FileNotFoundError:
        raise ToolError(f"{path} does not exist") from None
    except OSError as exc:
        raise ToolError(f"{path}: {exc.strerror or exc}") from None


def _describe(entry: os.DirEntry[str], roots: Roots) -> str:
    if entry.is_symlink():
        target = os.path.realpath(entry.path)
        where = "" if roots.contains(target) else ", points outside the shared folders"
        return f"{entry.name} (symlink{where})"
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return f"{entry.name} (unreadable)"
    if stat.S_ISDIR(st.st_mode):
        return f"{entry.name}/"
    return f"{entry.name} ({st.st_size} bytes)"


def _file_contains(path: str, needle: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_SCAN_BYTES)
    except OSError:
        return False
    return needle in data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m client.connectors.fs_server")
    parser.add_argument("--root", action="append", required=True, help="a folder to share (repeat)")
    args = parser.parse_args(argv)
    try:
        roots = Roots(args.root)
    except ValueError as exc:
        print(f"workjet-local-fs: {exc}", file=sys.stderr)
        return 2
    build_server(roots).run("stdio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
