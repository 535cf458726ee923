"""``workjet-gateway serve``: run gunicorn with the project's configuration."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from typing import Any

from gateway.config import Settings
from gateway.limits import is_in_process

Subparsers = Any


def register(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser("serve", help="serve the gateway with gunicorn")
    serve.add_argument("--bind", metavar="HOST:PORT", help="overrides WORKJET_BIND")
    serve.add_argument("--workers", type=int, metavar="N", help="overrides WORKJET_WORKERS")
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    workers = args.workers if args.workers is not None else settings.workers
    if workers < 1:
        print("workjet-gateway: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers > 1 and is_in_process(settings.ratelimit_storage_uri):
        print(
            "workjet-gateway: rate limits kept in process memory cannot be shared by "
            f"{workers} workers; set WORKJET_RATELIMIT_STORAGE_URI=redis://HOST:PORT "
            "or use --workers 1",
            file=sys.stderr,
        )
        return 2
    config = str(resources.files("gateway").joinpath("gunicorn.conf.py"))
    argv = [sys.executable, "-m", "gunicorn", "-c", config, "--workers", str(workers)]
    if args.bind:
        argv += ["--bind", args.bind]
    argv.append("gateway.wsgi:app")
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter and arguments
