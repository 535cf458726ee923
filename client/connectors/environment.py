"""The environment a stdio connector's child process gets.

Decision (issue 9): the child sees a minimal base copied from the parent plus only its own
secrets. The base is non-sensitive plumbing a server needs to run at all: where programs
are (PATH), whose home it is (HOME, USER, LOGNAME, SHELL), how to print (TERM, LANG,
LC_ALL, LC_CTYPE), the time zone (TZ) and where temporary files go (TMPDIR).

The ``mcp`` SDK merges its own allowlist (HOME LOGNAME PATH SHELL TERM USER on POSIX)
*under* what we pass and offers no way to remove a name from it. Every name of that list
is in our base, so the child's environment is exactly ``build_environment``'s result:
nothing else of the parent (API keys, tokens, DBUS_SESSION_BUS_ADDRESS, the gateway's
settings) and no other connector's secrets. A test checks this with a probe server.
"""

from __future__ import annotations

from collections.abc import Mapping

BASE_VARS: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
)
# The names the SDK always inherits (mcp.client.stdio.DEFAULT_INHERITED_ENV_VARS, POSIX).
SDK_INHERITED: frozenset[str] = frozenset({"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"})


def build_environment(parent: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """The base names present in ``parent`` plus ``secrets`` (which win on a clash).

    Values starting with ``()`` are exported shell functions; like the SDK, skip them.
    """
    env = {k: v for k in BASE_VARS if (v := parent.get(k)) is not None and not v.startswith("()")}
    env.update(secrets)
    return env
