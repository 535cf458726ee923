"""``workjet-gateway dlp``: try a DLP policy on text without sending anything anywhere.

    dlp scan [--policy FILE] [--tenant NAME] [FILE ...]   one JSON line per finding
    dlp scan --jsonl [--policy FILE] [--tenant NAME]      {"id","text"} lines in, one
                                                           {"id","findings"} line out each
    dlp types                                             the detector types, one a line
    dlp policy show|set FILE|reset --tenant NAME           a tenant's stored policy

Offsets are character offsets into the original text. Exit code: 0 when nothing would
be blocked, 1 when something would be, 2 on bad input or a bad policy. The output holds
types, offsets and actions only, never the matched values.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from gateway.dlp.engine import DlpEngine, TextFinding
from gateway.dlp.policy import DlpPolicy, PolicyError, load_policy_file
from gateway.dlp.ruleset import default_rules

Subparsers = Any  # argparse's _SubParsersAction is private
MAX_INPUT = 64 << 20  # bytes per file or per JSON line


def register(subparsers: Subparsers) -> None:
    dlp = subparsers.add_parser("dlp", help="scan text with a DLP policy")
    sub = dlp.add_subparsers(dest="action", required=True, metavar="ACTION")
    scan = sub.add_parser("scan", help="print the findings in files (or stdin)")
    scan.add_argument("--policy", metavar="FILE", help="policy file (JSON or .toml)")
    scan.add_argument("--tenant", metavar="NAME", help="the tenant's policy from the file")
    scan.add_argument("--jsonl", action="store_true",
                      help='read {"id","text"} JSON lines from stdin')
    scan.add_argument("files", nargs="*", metavar="FILE")
    scan.set_defaults(handler=run)
    types = sub.add_parser("types", help="list the detector types")
    types.set_defaults(handler=run_types)
    policy = sub.add_parser("policy", help="show, set or reset a tenant's stored policy")
    policy.add_argument("verb", choices=("show", "set", "reset"))
    policy.add_argument("file", nargs="?", metavar="FILE", help="policy file for 'set'")
    policy.add_argument("--tenant", required=True, metavar="NAME")
    policy.set_defaults(handler=run_policy)


def run_policy(args: argparse.Namespace) -> int:
    from gateway.dlp.service import tenant_policy_store

    try:
        policies, tenant_id = tenant_policy_store(args.tenant)
        if args.verb == "show":
            print(json.dumps((policies.load(tenant_id) or DlpPolicy()).to_dict(), indent=2))
        elif args.verb == "set":
            if args.file is None:
                raise PolicyError("'set' needs a policy FILE")
            policies.save(tenant_id, load_policy_file(args.file, default_rules().types).default)
            print(f"stored the DLP policy of {args.tenant} (workers pick it up within 30 s)")
        else:
            gone = policies.delete(tenant_id)
            print(f"{args.tenant} uses the default DLP policy" + ("" if gone else " already"))
    except PolicyError as exc:
        print(f"workjet-gateway dlp: {exc}", file=sys.stderr)
        return 2
    return 0


def run_types(args: argparse.Namespace) -> int:
    for name in sorted(default_rules().types):
        print(name)
    return 0


def _policy(args: argparse.Namespace) -> DlpPolicy:
    if args.policy is None:
        if args.tenant is not None:
            from gateway.dlp.service import stored_policy_by_name

            return stored_policy_by_name(args.tenant)
        return DlpPolicy()
    return load_policy_file(args.policy, default_rules().types).for_tenant(args.tenant)


def _finding(f: TextFinding) -> dict[str, Any]:
    return {"type": f.type, "start": f.start, "end": f.end, "action": f.action}


def run(args: argparse.Namespace, stdin: IO[str] | None = None, out: IO[str] | None = None) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        engine = DlpEngine.from_policy(_policy(args))
    except PolicyError as exc:
        print(f"workjet-gateway dlp: {exc}", file=sys.stderr)
        return 2
    if args.jsonl:
        if args.files:
            print("workjet-gateway dlp: --jsonl reads stdin; give no FILE", file=sys.stderr)
            return 2
        return _jsonl(engine, stdin, out)
    blocked = False
    sources: list[tuple[str | None, str]] = []
    try:
        if not args.files:
            sources.append((None, stdin.read(MAX_INPUT + 1)))
        for name in args.files:
            with open(name, encoding="utf-8", errors="replace") as fh:
                sources.append((name, fh.read(MAX_INPUT + 1)))
    except OSError as exc:
        print(f"workjet-gateway dlp: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    for name, text in sources:
        if len(text) > MAX_INPUT:
            print(f"workjet-gateway dlp: {name or 'stdin'} is larger than 64 MiB",
                  file=sys.stderr)
            return 2
        scan = engine.scan_text(text)
        blocked = blocked or scan.blocked
        for f in scan.findings:
            row = _finding(f)
            if len(args.files) > 1:
                row["file"] = name
            out.write(json.dumps(row) + "\n")
    return 1 if blocked else 0


def _jsonl(engine: DlpEngine, stdin: IO[str], out: IO[str]) -> int:
    blocked = bad = False
    for number, line in enumerate(iter(lambda: stdin.readline(MAX_INPUT + 1), ""), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict) or not isinstance(doc.get("text"), str):
                raise ValueError('expected an object {"id", "text"} with a string text')
        except ValueError as exc:
            # the message names the line, never echoes it (it may hold a secret)
            kind = "not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
            print(f"workjet-gateway dlp: line {number}: {kind}", file=sys.stderr)
            bad = True
            continue
        scan = engine.scan_text(doc["text"])
        blocked = blocked or scan.blocked
        row = {"id": doc.get("id"), "findings": [_finding(f) for f in scan.findings]}
        out.write(json.dumps(row) + "\n")
    if bad:
        return 2
    return 1 if blocked else 0
