"""``workjet``: open the terminal client, sign in or out, run a local gateway, manage MCP.

    workjet [--gateway URL] [--memory-only] [--ca-bundle PEM]   open the app
    workjet login URL [--api-key-stdin]                         device login or an API key
    workjet logout                                              forget the credential
    workjet local [--state-dir DIR] [--port N]                  local gateway + the app
    workjet mcp ...                                             MCP connectors (client.mcp_cli)
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from client.app import AppConfig, WorkjetApp, create_app
from client.errors import GatewayError
from client.gateway_client import DevicePending, GatewayClient
from client.history import History
from client.keychain import (
    CredentialStore,
    KeychainError,
    MemoryKeychain,
    account_for,
    open_keychain,
)
from client.settings import (
    Settings,
    SettingsError,
    check_gateway_url,
    load_settings,
    save_settings,
    settings_path,
)
from client.tools import ToolProvider, ToolProviderFactory


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workjet", description="Workjet terminal client.")
    parser.add_argument("--gateway", metavar="URL", help="gateway URL for this run")
    parser.add_argument("--memory-only", action="store_true",
                        help="keep the credential in this process's memory only (headless hosts)")
    parser.add_argument("--ca-bundle", metavar="PEM", help="CA bundle trusted for the gateway")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    login = sub.add_parser("login", help="sign in to a gateway (browser code or API key)")
    login.add_argument("url", metavar="URL")
    login.add_argument("--api-key-stdin", action="store_true",
                       help="read an API key from standard input instead of a browser login")
    sub.add_parser("logout", help="sign out: end the session and remove the credential")
    local = sub.add_parser("local", help="run a local gateway and open the app signed in")
    local.add_argument("--state-dir", default=".workjet", metavar="DIR",
                       help="folder for the local gateway's database and audit log")
    local.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    sub.add_parser("mcp", help="manage MCP connectors (see `workjet mcp --help`)",
                   add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "mcp" in args_list:
        at = args_list.index("mcp")
        if all(a.startswith("-") for a in args_list[:at]):
            mcp_cli = importlib.import_module("client.mcp_cli")
            return int(mcp_cli.main(args_list[at + 1:]))
    args = build_parser().parse_args(args_list)
    try:
        settings_file = settings_path()
        settings = load_settings(settings_file)
        if args.command == "login":
            return _login(args, settings, settings_file)
        if args.command == "logout":
            return _logout(args, settings)
        if args.command == "local":
            return _local(args, settings)
        return _run_app(args, settings, settings_file)
    except (SettingsError, KeychainError) as exc:
        print(f"workjet: {exc}", file=sys.stderr)
        return 2


def _keychain(args: argparse.Namespace) -> CredentialStore:
    return open_keychain(memory_only=args.memory_only)


def _tool_provider_factory() -> ToolProviderFactory:
    """MCP connector tools, asked for approval in a modal; none when none are configured."""

    def factory(app: WorkjetApp) -> ToolProvider | None:
        if not app.settings.connectors:
            return None  # nothing to start: skip loading the MCP SDK at all
        from client.screens.approval import connector_tools

        return connector_tools(app)

    return factory


def _run_app(args: argparse.Namespace, settings: Settings, settings_file: Path) -> int:
    keychain = _keychain(args)
    keychain.check()
    config = AppConfig(
        settings=settings,
        history=History().open(),
        keychain=keychain,
        settings_file=settings_file,
        gateway_url=check_gateway_url(args.gateway) if args.gateway else "",
        ca_bundle=args.ca_bundle or "",
        tool_provider_factory=_tool_provider_factory(),
    )
    create_app(config).run()
    return 0


def _login(args: argparse.Namespace, settings: Settings, settings_file: Path) -> int:
    url = check_gateway_url(args.url)
    keychain = _keychain(args)
    keychain.check()
    ca = args.ca_bundle or settings.ca_bundle or None
    try:
        if args.api_key_stdin:
            secret = sys.stdin.readline().strip()
            if not secret:
                print("workjet: no API key on standard input", file=sys.stderr)
                return 2
        else:
            secret = _device_login(url, ca)
        me = GatewayClient(url, lambda: secret, ca_bundle=ca).me()
    except GatewayError as exc:
        print(f"workjet: {exc}", file=sys.stderr)
        return 1
    keychain.set(account_for(url), secret)
    if settings.gateway_url != url:
        save_settings(settings_file, settings.replace(gateway_url=url))
    user = me.get("user", {}) if isinstance(me, dict) else {}
    tenant = me.get("tenant", {}) if isinstance(me, dict) else {}
    print(f"Signed in to {url} as {user.get('email', '?')} (tenant {tenant.get('name', '?')}); "
          f"the credential is in the {keychain.description}.")
    return 0


def _device_login(url: str, ca: str | None) -> str:
    client = GatewayClient(url, lambda: None, ca_bundle=ca)
    login = client.start_device_login("workjet command line")
    link = login.verification_uri_complete or login.verification_uri
    print(f"Open {link} in any browser and enter the code {login.user_code}")
    print("Waiting for approval… (Ctrl+C cancels)", flush=True)
    interval = login.interval
    deadline = time.monotonic() + login.expires_in
    while time.monotonic() < deadline:
        time.sleep(interval)
        try:
            return client.poll_device_token(login.device_code)
        except DevicePending as pending:
            interval += 5 if pending.slow_down else 0
    raise GatewayError("The sign-in code expired. Run `workjet login` again.")


def _logout(args: argparse.Namespace, settings: Settings) -> int:
    url = args.gateway or settings.gateway_url
    if not url:
        print("workjet: no gateway configured; nothing to sign out of", file=sys.stderr)
        return 2
    url = check_gateway_url(url)
    keychain = _keychain(args)
    account = account_for(url)
    secret = keychain.get(account)
    if secret is None:
        print(f"Not signed in to {url}.")
        return 0
    message = ""
    if secret.startswith("wj_sess_"):
        try:
            GatewayClient(url, lambda: secret, ca_bundle=args.ca_bundle or settings.ca_bundle
                          or None).logout()
        except GatewayError as exc:
            message = f" (the gateway could not end the session: {exc})"
    keychain.delete(account)
    print(f"Signed out of {url}; the credential was removed from the keychain{message}.")
    return 0


def _local(args: argparse.Namespace, settings: Settings) -> int:
    from client.local_stack import LocalGateway, LocalStackError

    gateway = LocalGateway(Path(args.state_dir), args.port)
    try:
        print(f"workjet: setting up a local gateway in {gateway.state_dir} …", file=sys.stderr)
        key = gateway.provision()
        gateway.start()
    except LocalStackError as exc:
        gateway.stop()
        print(f"workjet: {exc}", file=sys.stderr)
        return 1
    try:
        keychain = MemoryKeychain()  # the quick-start key lives in this process only
        keychain.set(account_for(gateway.url), key)
        del key
        config = AppConfig(
            settings=settings,
            history=History().open(),
            keychain=keychain,
            settings_file=None,
            gateway_url=gateway.url,
            title="Workjet (local)",
            tool_provider_factory=_tool_provider_factory(),
        )
        create_app(config).run()
    finally:
        gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
