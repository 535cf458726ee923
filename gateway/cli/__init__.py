"""``workjet-gateway``: administer and serve the gateway.

Each command module has ``register(subparsers)``, which adds its parsers and sets
``handler`` to a function ``(args) -> int`` (the exit code).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway.cli import admin, audit, auth, dlp, models, serve
from gateway.config import ConfigError

COMMAND_MODULES = (admin, audit, auth, dlp, models, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workjet-gateway", description="Administer and serve the Workjet gateway."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        print(f"workjet-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
