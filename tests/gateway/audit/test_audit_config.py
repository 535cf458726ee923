"""Audit settings: sink URLs, TLS by default, errors that say what to set."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.config import AuditConfigError, S3Target, from_settings, parse_sink_url
from gateway.audit.sinks import S3Sink
from gateway.config import Settings


def test_s3_url_uses_tls_unless_plain_http_is_allowed() -> None:
    target = parse_sink_url("s3://store.example:9000/audit-bucket", access_key="a",
                            secret_key="s")
    assert isinstance(target, S3Target)
    assert (target.endpoint, target.bucket, target.secure) == (
        "store.example:9000", "audit-bucket", True)
    assert S3Sink(target).describe() == "s3://store.example:9000/audit-bucket"
    plain = parse_sink_url("s3://127.0.0.1:9000/b-1", access_key="a", secret_key="s",
                           allow_http=True)
    assert isinstance(plain, S3Target) and plain.secure is False


@pytest.mark.parametrize(
    ("url", "kw", "message"),
    [
        ("http://x/y", {}, "must start with s3:// or file://"),
        ("s3://host:9000/", {"access_key": "a", "secret_key": "s"}, "s3://host:port/bucket"),
        ("s3://host:9000/bucket", {}, "WORKJET_AUDIT_S3_ACCESS_KEY"),
        ("s3://h:1/bucket", {"access_key": "a", "secret_key": "s", "lock_mode": "governance"},
         "WORKJET_AUDIT_S3_RETENTION_DAYS"),
    ],
)
def test_bad_sink_settings_say_what_to_set(url: str, kw: dict, message: str) -> None:
    with pytest.raises(AuditConfigError, match=message.replace("/", "/")):
        parse_sink_url(url, **kw)


def test_defaults_are_a_local_directory_with_its_spool_beside_it(tmp_path: Path) -> None:
    cfg = from_settings(Settings(audit_url=(tmp_path / "audit").as_uri()))
    assert cfg.sink == tmp_path / "audit"
    assert cfg.spool_dir == tmp_path / "audit-spool"
    assert cfg.full_policy == "refuse"
    env = Settings.from_env({"WORKJET_AUDIT_FULL_POLICY": "alarm",
                             "WORKJET_AUDIT_SPOOL_DIR": str(tmp_path / "sp")})
    cfg = from_settings(env)
    assert cfg.full_policy == "alarm" and cfg.spool_dir == tmp_path / "sp"
