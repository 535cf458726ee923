"""``workjet mcp add|add-fs|list|remove|test|import``: manage MCP connectors from a shell.

Secrets never appear on the command line or in the settings file: ``--secret VAR`` names
a variable, and its value is asked for (masked) on a terminal or read from stdin, one line
per secret, then stored in the OS keychain as ``mcp:<connector>:<VAR>``.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from client.connectors.config import ConnectorConfig, ConnectorConfigError
from client.connectors.connection import ConnectorError
from client.connectors.importer import read_mcp_servers
from client.connectors.manager import ConnectorManager
from client.connectors.registry import ConnectorRegistry
from client.connectors.secrets import SecretStore
from client.keychain import KeychainError, open_keychain
from client.settings import SettingsError, settings_path

MAX_SECRET_CHARS = 16 * 1024


class _Io:
    def __init__(self, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr

    def out(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def err(self, text: str) -> None:
        print(f"workjet mcp: {text}", file=self.stderr)

    def secret(self, prompt: str) -> str:
        """A masked prompt on a terminal; otherwise one line of stdin."""
        if self.stdin.isatty():
            value = getpass.getpass(prompt, stream=self.stderr)
        else:
            value = self.stdin.readline().rstrip("\r\n")
        if not value:
            raise ConnectorConfigError(f"no value given ({prompt.strip()})")
        if len(value) > MAX_SECRET_CHARS:
            raise ConnectorConfigError("that secret is too long")
        return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workjet mcp", description="Manage MCP connectors.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser(
        "add",
        help="add a connector",
        usage="workjet mcp add NAME [--secret VAR]... (-- COMMAND [ARGS...] | --url URL)",
    )
    add.add_argument("name")
    add.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="VAR",
        help="a secret the server needs (asked for, kept in the keychain)",
    )
    add.add_argument("--url", default="", help="a remote (streamable HTTP) server")
    add.add_argument("--cwd", default=None, help="working directory of the command")
    add.add_argument("--autostart", action="store_true", help="start it when Workjet starts")
    add.add_argument("--replace", action="store_true", help="replace a connector of that name")
    fs = sub.add_parser("add-fs", help="add the read-only Local FS connector for some folders")
    fs.add_argument("name")
    fs.add_argument("folders", nargs="+")
    fs.add_argument("--replace", action="store_true")
    sub.add_parser("list", help="list connectors")
    rm = sub.add_parser("remove", help="remove a connector and its keychain items")
    rm.add_argument("name")
    test = sub.add_parser("test", help="start a connector, list what it offers, stop it")
    test.add_argument("name")
    imp = sub.add_parser("import", help="import an mcpServers JSON file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--replace", action="store_true")
    return parser


def main(
    argv: list[str],
    *,
    keychain: SecretStore | None = None,
    settings_file: Path | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    io = _Io(stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    # Everything after the first "--" is the server's command line, untouched by argparse.
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    args.command = command
    try:
        store: SecretStore = keychain if keychain is not None else _LazyKeychain()
        registry = ConnectorRegistry(settings_file or settings_path(), store)
        handler: Callable[[argparse.Namespace, ConnectorRegistry, _Io], int] = _COMMANDS[args.cmd]
        return handler(args, registry, io)
    except (ConnectorConfigError, SettingsError, KeychainError, ConnectorError, OSError) as exc:
        io.err(str(exc))
        return 1


class _LazyKeychain:
    """The system keychain, opened (and checked to be secure) on first use only, so
    ``list`` or a connector without secrets works where no keychain is available."""

    def __init__(self) -> None:
        self._store: SecretStore | None = None

    def _open(self) -> SecretStore:
        if self._store is None:
            kc = open_keychain()
            kc.check()
            self._store = kc
        return self._store

    def get(self, account: str) -> str | None:
        return self._open().get(account)

    def set(self, account: str, secret: str) -> None:
        self._open().set(account, secret)

    def delete(self, account: str) -> bool:
        return self._open().delete(account)


def _add(args: argparse.Namespace, reg: ConnectorRegistry, io: _Io) -> int:
    command = list(args.command)
    if args.url and command:
        raise ConnectorConfigError("give a command after -- or --url, not both")
    if args.url:
        cfg = ConnectorConfig(
            args.name,
            transport="http",
            url=args.url,
            secrets=tuple(args.secret),
            autostart=args.autostart,
        )
    elif command:
        cfg = ConnectorConfig(
            args.name,
            command=command[0],
            args=tuple(command[1:]),
            cwd=args.cwd,
            secrets=tuple(args.secret),
            autostart=args.autostart,
        )
    else:
        raise ConnectorConfigError("give the server's command after -- or a --url")
    values = {var: io.secret(f"{var} for {cfg.name}: ") for var in cfg.secrets}
    reg.add(cfg, values, replace=args.replace)
    io.out(f"added {cfg.name}" + (f" ({len(values)} secret(s) in the keychain)" if values else ""))
    return 0


def _add_fs(args: argparse.Namespace, reg: ConnectorRegistry, io: _Io) -> int:
    roots = [str(Path(f).expanduser().resolve()) for f in args.folders]
    for root in roots:
        if not Path(root).is_dir():
            raise ConnectorConfigError(f"{root} is not a folder")
    fs_args = ["-m", "client.connectors.fs_server"]
    for root in roots:
        fs_args += ["--root", root]
    # cwd: where the ``client`` package is, so ``-m`` finds it even when not installed.
    package_home = str(Path(__file__).resolve().parents[1])
    cfg = ConnectorConfig(args.name, command=sys.executable, args=tuple(fs_args), cwd=package_home)
    reg.add(cfg, {}, replace=args.replace)
    io.out(f"added {args.name}: read-only access to {', '.join(roots)}")
    return 0


def _list(args: argparse.Namespace, reg: ConnectorRegistry, io: _Io) -> int:
    configs = reg.list()
    if not configs:
        io.out("no connectors; add one with `workjet mcp add NAME -- COMMAND`")
        return 0
    approvals = reg.approvals()
    for cfg in configs:
        flags: list[str] = [cfg.transport]
        if not cfg.enabled:
            flags.append("disabled")
        if cfg.autostart:
            flags.append("autostart")
        io.out(f"{cfg.name}  [{', '.join(flags)}]  {cfg.target}")
        if cfg.secrets:
            io.out(f"    secrets (keychain): {', '.join(cfg.secrets)}")
        allowed = approvals.allowed_tools(cfg.name)
        if allowed:
            io.out(f"    always allowed: {', '.join(allowed)}")
    return 0


def _remove(args: argparse.Namespace, reg: ConnectorRegistry, io: _Io) -> int:
    cfg = reg.remove(args.name)
    extra = f" and {len(cfg.secrets)} keychain item(s)" if cfg.secrets else ""
    io.out(f"removed {cfg.name}{extra}")
    return 0


def _test(args: argparse.Namespace, reg: ConnectorRegistry, io: _Io) -> int:
    cfg = dataclasses.replace(reg.get(args.name), enabled=True)  # testing a disabled one is fine
    with ConnectorManager([cfg], reg.secrets) as manager:
        try:
            status = manager.start(cfg.name)
        except ConnectorError as exc:
            io.err(str(exc))
            for line in manager.status(cfg.name).stderr_tail:
                io.err(f"  stderr: {line}")
            return 1
        io.out(f"{cfg.name}: ready ({status.server})")
        tools = manager.list_tools(cfg.name)
        io.out(f"tools ({len(tools)}):")
        for tool in tools:
            io.out(f"  {tool.name}  {_first_line(tool.description)}")
        for kind, lister in (
            ("resources", manager.list_resources),
            ("prompts", manager.list_prompts),
        ):
            try:
                items = lister(cfg.name)
            except ConnectorError:
                items = []  # the server does not offer them
            io.out(f"{kind} ({len(items)}):")
            for item in items:
                label = getattr(item, "uri", None) or getattr(item, "name", "")
                io.out(f"  {label}  {_first_line(getattr(item, 'description', None))}")
    io.out(f"{cfg.name}: stopped")
    return 0


def _import(args: argparse.Namespace, reg: ConnectorRegistry, io: _Io) -> int:
    imported = read_mcp_servers(args.file)
    moved: list[str] = []
    for item in imported:
        for warning in item.warnings:
            io.err(warning)
        values = dict(item.values)
        for var in item.unset:
            values[var] = io.secret(f"{var} for {item.config.name}: ")
        reg.add(item.config, values, replace=args.replace)
        moved += [f"{item.config.name}.{var}" for var in item.values]
        io.out(f"imported {item.config.name}  {item.config.target}")
    if moved:
        io.out(
            f"moved {len(moved)} secret(s) into the keychain ({', '.join(moved)}). "
            f"They are still written in {args.file}: delete them from that file now."
        )
    return 0


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0][:80] if (text or "").strip() else ""


_COMMANDS: dict[str, Callable[[argparse.Namespace, ConnectorRegistry, _Io], int]] = {
    "add": _add,
    "add-fs": _add_fs,
    "list": _list,
    "remove": _remove,
    "test": _test,
    "import": _import,
}


def run(argv: Sequence[str] | None = None) -> int:
    return main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(run())
