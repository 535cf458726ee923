"""The S3 sink speaks TLS by default, verifying the store's certificate."""

from __future__ import annotations

import http.client
import ssl
from pathlib import Path

import pytest
import trustme

from gateway.audit import AuditConfig, AuditLog
from gateway.audit.config import S3Target
from gateway.audit.sinks import S3Sink, SinkError
from tests.gateway.audit.support import id_counts, record
from tests.services import S3Server

pytestmark = pytest.mark.integration


class TlsS3Server(S3Server):
    """versitygw serving HTTPS with a certificate from a test CA."""

    def __init__(self, workdir: Path, cert: Path, key: Path) -> None:
        super().__init__(workdir)
        self.cert, self.key = cert, key

    def command(self) -> list[str]:
        base = super().command()
        return [base[0], "--cert", str(self.cert), "--key", str(self.key), *base[1:]]

    def is_ready(self) -> bool:
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=0.5,
                                           context=ssl._create_unverified_context())  # noqa: S323
        try:
            conn.request("GET", "/")
            return conn.getresponse().status > 0
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()


@pytest.fixture
def tls_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "server.pem"))
    server = TlsS3Server(tmp_path / "s3", tmp_path / "server.pem", tmp_path / "server.key")
    server.start()
    yield server, tmp_path / "ca.pem"
    server.stop()


def target(server: S3Server, **kw: object) -> S3Target:
    return S3Target(server.endpoint, "audit-tls", server.access_key, server.secret_key,
                    region=server.region, create_bucket=True, **kw)  # type: ignore[arg-type]


def test_records_reach_a_tls_store_whose_certificate_is_trusted(
    tls_store: tuple[S3Server, Path], tmp_path: Path
) -> None:
    server, ca = tls_store
    t = target(server, ca_file=str(ca))
    assert t.secure  # TLS is the default
    log = AuditLog(AuditConfig(sink=t, spool_dir=tmp_path / "spool", upload_interval=0.1))
    rec = record()
    log.record(rec)
    assert log.flush()
    log.close()
    assert id_counts(S3Sink(t)) == {rec.id: 1}


def test_an_untrusted_certificate_is_refused_and_records_wait(
    tls_store: tuple[S3Server, Path], tmp_path: Path
) -> None:
    server, _ca = tls_store
    sink = S3Sink(target(server))  # the system CAs do not know the test CA
    with pytest.raises(SinkError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
        sink.check()
    log = AuditLog(AuditConfig(sink=target(server), spool_dir=tmp_path / "spool",
                               upload_interval=0.1, close_timeout=1))
    log.record(record())
    assert not log.flush()
    assert log.status().spool_bytes > 0  # kept, not dropped
    log.close()
