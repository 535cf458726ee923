"""``workjet-gateway audit verify|export|keygen`` as an operator runs them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway.audit import AuditLog, from_settings
from gateway.audit.sinks import FileSink
from gateway.cli import main
from gateway.config import Settings
from gateway.store import Store
from tests.gateway.audit.support import data_keys, record


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A gateway configuration with a database (tenants acme, beta) and a file sink."""
    values = {
        "WORKJET_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
        "WORKJET_AUDIT_URL": (tmp_path / "audit").as_uri(),
        "WORKJET_AUDIT_UPLOAD_INTERVAL": "0.1",
        "WORKJET_HOST_NAME": "clihost",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env(values)


def fill(settings: Settings) -> dict[str, str]:
    store = Store(settings.database_url)
    store.migrate()
    ids = {name: str(store.create_tenant(name)) for name in ("acme", "beta")}
    log = AuditLog(from_settings(settings))
    for name, tid in ids.items():
        for i in range(3):
            log.record(record(tid, user_id=f"u-{i}", model=f"model-{name}"))
        log.flush()
    log.close()
    store.engine.dispose()
    return ids


def test_verify_passes_then_names_a_deleted_object(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = fill(env)
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "tenant acme" in out and "tenant beta" in out and "OK" in out
    sink = FileSink(tmp_path / "audit")
    victim = data_keys(sink, ids["beta"])[0]
    (tmp_path / "audit" / victim).unlink()
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"MISSING {victim}" in out
    assert main(["audit", "verify", "--tenant", "acme"]) == 0  # the other tenant is intact
    assert main(["audit", "verify", "--tenant", "beta", "--from", "2000-01-01"]) == 1
    assert main(["audit", "verify", "--tenant", "beta", "--to", "2000-01-01"]) == 0


def test_verify_needs_the_right_public_key(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(env)
    pub = (tmp_path / "audit-spool" / "signing-key.pub").read_text().strip()
    assert main(["audit", "verify", "--public-key", pub]) == 0
    capsys.readouterr()
    assert main(["audit", "keygen", str(tmp_path / "other.pem")]) == 0
    other = capsys.readouterr().out.strip()
    assert main(["audit", "verify", "--public-key", other]) == 1
    assert "not a trusted public key" in capsys.readouterr().out
    assert main(["audit", "verify", "--tenant", "nope"]) == 2
    assert "no tenant named 'nope'" in capsys.readouterr().err


def test_export_writes_one_tenants_records_filtered(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = fill(env)
    assert main(["audit", "export", "--tenant", "acme"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and {x["tenant_id"] for x in lines} == {ids["acme"]}
    out_file = tmp_path / "export.jsonl"
    assert main(["audit", "export", "--tenant", "beta", "--user", "u-1", "-o", str(out_file)]) == 0
    lines = [json.loads(x) for x in out_file.read_text().splitlines()]
    assert [(x["user_id"], x["model"]) for x in lines] == [("u-1", "model-beta")]
    assert main(["audit", "export", "--tenant", "acme", "--from", "yesterday"]) == 2


def test_keygen_writes_a_private_key_only_its_owner_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys" / "audit.pem"
    assert main(["audit", "keygen", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert capsys.readouterr().out.strip() == path.with_suffix(".pub").read_text().strip()
    assert main(["audit", "keygen", str(path)]) == 2  # never overwrites


def test_status_shows_what_waits_in_each_slot(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = from_settings(env)
    busy = AuditLog(cfg)
    busy.start()
    assert main(["audit", "status"]) == 0
    out = capsys.readouterr().out
    assert "w0: in use, 0 segments" in out
    busy.record(record())
    assert main(["audit", "status"]) == 0
    segment = next((cfg.spool_dir / "w0").glob("seg-*"))
    held = len(segment.read_bytes().rstrip(b"\0"))  # blocks are reserved past the records
    assert 0 < held < 4096 < segment.stat().st_size
    assert f"w0: in use, 1 segments, {held} bytes" in capsys.readouterr().out
    busy.close()
    from gateway.audit.spool import frame

    (cfg.spool_dir / "w0" / "quarantine.log").write_bytes(frame(b'{"bad":1}'))
    assert main(["audit", "status"]) == 1
    out = capsys.readouterr().out
    assert "w0: idle" in out and "1 QUARANTINED lines" in out
