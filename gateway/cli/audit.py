"""``workjet-gateway audit``: verify, export, spool status, and the digest signing key.

``verify`` needs only read access to the sink and the public key; it prints every
missing, altered, reordered or extra object and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit import slots
from gateway.audit.config import AuditConfigError, from_settings
from gateway.audit.keys import (
    AUTO_PUB_NAME,
    AuditKeyError,
    load_public_key,
    public_text,
    write_private_key,
)
from gateway.audit.reader import Query, TimeFormatError, hour_key, parse_time, read_records
from gateway.audit.shipper import QUARANTINE
from gateway.audit.sinks import Sink, SinkError, open_sink
from gateway.audit.spool import list_segments, read_segment, record_bytes
from gateway.audit.verify import verify_tenant
from gateway.config import Settings
from gateway.store import Store
from shared.codec import encode

Subparsers = Any


def register(subparsers: Subparsers) -> None:
    audit = subparsers.add_parser("audit", help="verify and export the audit log")
    sub = audit.add_subparsers(dest="action", required=True, metavar="ACTION")

    verify = sub.add_parser(
        "verify", help="check objects against the signed digests; exit 1 on any problem"
    )
    verify.add_argument("--tenant", metavar="NAME", help="one tenant (default: every tenant)")
    verify.add_argument("--from", dest="start", metavar="TIME", help="RFC 3339, inclusive")
    verify.add_argument("--to", dest="end", metavar="TIME", help="RFC 3339, inclusive")
    verify.add_argument(
        "--public-key", action="append", default=[], metavar="KEY",
        help="base64 Ed25519 public key or a file with it (repeatable; default: "
        "WORKJET_AUDIT_VERIFY_KEY, else the key made beside the spool)",
    )
    verify.set_defaults(handler=cmd_verify)

    export = sub.add_parser("export", help="write a tenant's records as JSON lines")
    export.add_argument("--tenant", metavar="NAME", required=True)
    export.add_argument("--from", dest="start", metavar="TIME")
    export.add_argument("--to", dest="end", metavar="TIME")
    export.add_argument("--user", default="", metavar="USER_ID")
    export.add_argument("--model", default="")
    export.add_argument("--output", "-o", metavar="FILE", help="default: standard output")
    export.set_defaults(handler=cmd_export)

    status = sub.add_parser(
        "status", help="what waits in each worker's spool on this host (for monitoring)"
    )
    status.set_defaults(handler=cmd_status)

    keygen = sub.add_parser(
        "keygen", help="make an Ed25519 signing key (PEM, mode 0600); prints the public key"
    )
    keygen.add_argument("path", type=Path, help="where to write the private key")
    keygen.set_defaults(handler=cmd_keygen)


def _fail(message: str, code: int = 2) -> int:
    print(f"workjet-gateway audit: {message}", file=sys.stderr)
    return code


def _tenants(settings: Settings, sink: Sink, name: str | None) -> Iterator[tuple[str, str]]:
    """(label, tenant id) pairs: the named one, or every tenant the database or sink knows."""
    names: dict[str, str] = {}
    try:
        store = Store(settings.database_url)
        if store.schema_version() > 0:
            names = {str(row.id): str(row.name) for row in store.list_tenants()}
        store.engine.dispose()
    except Exception as exc:  # the sink alone is enough to verify; names are a nicety
        print(f"workjet-gateway audit: tenant names unavailable ({type(exc).__name__})",
              file=sys.stderr)
    if name is not None:
        found = [tid for tid, tname in names.items() if tname == name]
        if not found and name in set(sink.prefixes()):
            found = [name]  # a tenant id given directly
        if not found:
            raise LookupError(f"no tenant named {name!r}")
        yield name, found[0]
        return
    for tid in sorted(set(names) | set(sink.prefixes())):
        yield f"{names.get(tid, '?')} ({tid})", tid


def _public_keys(args: argparse.Namespace, settings: Settings, spool: Path) -> list[
    Ed25519PublicKey
]:
    given = list(args.public_key) or ([settings.audit_verify_key]
                                      if settings.audit_verify_key else [])
    if not given and (spool / AUTO_PUB_NAME).exists():
        given = [str(spool / AUTO_PUB_NAME)]
    if not given:
        raise AuditKeyError("give the digest signing public key with --public-key "
                            "or WORKJET_AUDIT_VERIFY_KEY")
    return [load_public_key(text) for text in given]


def _hours(args: argparse.Namespace) -> tuple[str | None, str | None]:
    start = hour_key(parse_time(args.start)) if args.start else None
    end = hour_key(parse_time(args.end)) if args.end else None
    return start, end


def cmd_verify(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        config = from_settings(settings)
        keys = _public_keys(args, settings, config.spool_dir)
        start, end = _hours(args)
        sink = open_sink(config.sink)
        problems = 0
        for label, tenant_id in _tenants(settings, sink, args.tenant):
            report = verify_tenant(sink, tenant_id, keys, start_hour=start, end_hour=end)
            state = "OK" if report.ok else f"{len(report.problems)} PROBLEMS"
            print(f"tenant {label}: {report.objects_checked} objects, "
                  f"{report.digests_checked} digests checked: {state}")
            for problem in report.problems:
                print(f"  {problem}")
            problems += len(report.problems)
    except (AuditConfigError, AuditKeyError, TimeFormatError, LookupError) as exc:
        return _fail(str(exc))
    except SinkError as exc:
        return _fail(str(exc), 3)
    return 1 if problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    out: TextIO = sys.stdout
    try:
        config = from_settings(settings)
        sink = open_sink(config.sink)
        _label, tenant_id = next(_tenants(settings, sink, args.tenant))
        query = Query(
            tenant_id,
            start=parse_time(args.start) if args.start else None,
            end=parse_time(args.end) if args.end else None,
            user=args.user,
            model=args.model,
        )
        if args.output:
            out = open(args.output, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        count = 0
        for rec in read_records(sink, query):
            out.write(encode(rec) + "\n")
            count += 1
    except (AuditConfigError, TimeFormatError, LookupError) as exc:
        return _fail(str(exc))
    except SinkError as exc:
        return _fail(str(exc), 3)
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} records", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """One line per spool slot; exit 1 if any slot holds a quarantined line."""
    try:
        config = from_settings(Settings.from_env())
    except AuditConfigError as exc:
        return _fail(str(exc))
    root = config.spool_dir
    print(f"spool {root} (bound {config.spool_max_bytes} bytes per worker, "
          f"policy {config.full_policy})")
    quarantined = 0
    for directory in slot_dirs(root):
        segments = list_segments(directory)
        size = sum(record_bytes(p) for p in segments)  # a live segment reserves blocks ahead
        bad = directory / QUARANTINE
        held = len(read_segment(bad)[0]) if bad.exists() else 0
        quarantined += held
        owner = "idle" if try_claim_and_release(directory) else "in use"
        print(f"  {directory.name}: {owner}, {len(segments)} segments, {size} bytes "
              f"({100 * size // config.spool_max_bytes}% of the bound)"
              + (f", {held} QUARANTINED lines in {bad}" if held else ""))
    return 1 if quarantined else 0


def try_claim_and_release(directory: Path) -> bool:
    slot = slots.try_claim(directory)
    if slot is None:
        return False
    slot.release()
    return True


def slot_dirs(root: Path) -> list[Path]:
    return slots.others(root, "")


def cmd_keygen(args: argparse.Namespace) -> int:
    try:
        key = write_private_key(args.path)
    except FileExistsError:
        return _fail(f"{args.path} exists; refusing to overwrite a signing key")
    except OSError as exc:
        return _fail(f"cannot write {args.path}: {exc}")
    print(f"wrote the signing key to {args.path} (mode 0600) and its public key to "
          f"{args.path.with_suffix('.pub')}; set WORKJET_AUDIT_SIGNING_KEY_FILE={args.path}",
          file=sys.stderr)
    print(public_text(key.public_key()))
    return 0
