"""``workjet-gateway dlp scan``: output lines, offsets, --jsonl, --policy/--tenant, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.gateway.dlp.dlp_samples import Gen
from tests.gateway.server import installed_command

TOKEN = Gen(51).github("ghp_")
PEM = Gen(52).pem()


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKJET_")}
    return subprocess.run(
        [installed_command("workjet-gateway"), "dlp", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_scan_stdin_prints_one_line_per_finding_with_original_offsets() -> None:
    text = f"hi \u200bbob@acme.io, token {TOKEN}\n"
    run = _cli("scan", stdin=text)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert rows == [
        {"type": "EMAIL", "start": 4, "end": 15, "action": "redact"},
        {"type": "GITHUB_PAT", "start": 23, "end": 23 + len(TOKEN), "action": "redact"},
    ]
    assert text[4:15] == "bob@acme.io"
    assert TOKEN not in run.stdout + run.stderr


def test_exit_code_1_when_something_would_be_blocked(tmp_path: Path) -> None:
    clean, dirty = tmp_path / "a.txt", tmp_path / "b.txt"
    clean.write_text("nothing here")
    dirty.write_text(f"key:\n{PEM}\n")
    assert _cli("scan", str(clean)).returncode == 0
    run = _cli("scan", str(clean), str(dirty))
    assert run.returncode == 1
    assert [json.loads(x) for x in run.stdout.splitlines()] == [
        {
            "type": "RSA_PRIVATE_KEY",
            "start": 5,
            "end": 5 + len(PEM),
            "action": "block",
            "file": str(dirty),
        }
    ]


def test_jsonl_mode_and_tenant_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "default": {},
                "tenants": {"acme": {"actions": {"EMAIL": "block", "GITHUB_PAT": "allow"}}},
            }
        )
    )
    lines = (
        "\n".join(
            json.dumps(x)
            for x in [
                {"id": 1, "text": "mail bob@acme.io"},
                {"id": "b", "text": f"token {TOKEN}"},
                {"id": 3, "text": "clean"},
            ]
        )
        + "\n"
    )
    run = _cli("scan", "--jsonl", "--policy", str(policy), "--tenant", "acme", stdin=lines)
    assert run.returncode == 1, run.stderr
    assert [json.loads(x) for x in run.stdout.splitlines()] == [
        {"id": 1, "findings": [{"type": "EMAIL", "start": 5, "end": 16, "action": "block"}]},
        {"id": "b", "findings": []},
        {"id": 3, "findings": []},
    ]
    default = _cli("scan", "--jsonl", "--policy", str(policy), stdin=lines)
    assert default.returncode == 0
    assert json.loads(default.stdout.splitlines()[1])["findings"][0]["type"] == "GITHUB_PAT"


def test_bad_input_and_bad_policy_exit_2_without_echoing(tmp_path: Path) -> None:
    run = _cli("scan", "--jsonl", stdin=f"not json {TOKEN}\n")
    assert run.returncode == 2 and "line 1: not JSON" in run.stderr
    assert TOKEN not in run.stderr + run.stdout
    bad = tmp_path / "p.json"
    bad.write_text('{"actions": {"EMAIL": "shred"}}')
    run = _cli("scan", "--policy", str(bad), stdin="x")
    assert run.returncode == 2 and "must be one of" in run.stderr
    assert _cli("scan", str(tmp_path / "missing.txt")).returncode == 2


def test_types_lists_the_detectors() -> None:
    run = _cli("types")
    names = run.stdout.split()
    assert run.returncode == 0 and "WORKJET_API_KEY" in names and len(names) >= 90
