"""The Versity S3 gateway (``versitygw``) over its POSIX backend, on a free loopback port.

Buckets are directories under ``workdir/data``; object versions live in
``workdir/versions``, which turns on bucket versioning and with it S3 Object Lock
(create the bucket with ``make_bucket(name, object_lock=True)``). Data survives
``stop()``/``start()``, as a real object store's would across an outage.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.services.process import REPO_ROOT, ServiceError, ServiceProcess

if TYPE_CHECKING:
    import minio

INSTALL_HINT = (
    "run .ci/run, or build it with "
    "`GOBIN=$PWD/.tools/bin go install github.com/versity/versitygw/cmd/versitygw@v1.7.0`"
)
REGION = "us-east-1"


def find_versitygw() -> str:
    """``.tools/bin/versitygw`` under the repository root, else ``versitygw`` on PATH."""
    local = REPO_ROOT / ".tools" / "bin" / "versitygw"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("versitygw")
    if found is None:
        raise ServiceError(f"versitygw missing (looked in {local.parent} and PATH): {INSTALL_HINT}")
    return found


class S3Server(ServiceProcess):
    """``versitygw posix`` with random root credentials, versioning and object lock enabled.

    ``endpoint`` is ``127.0.0.1:PORT`` (no scheme, as ``minio.Minio`` wants it), ``url``
    is ``http://127.0.0.1:PORT``; ``access_key``/``secret_key`` are the root account.
    """

    name = "versitygw"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.binary = find_versitygw()
        self.access_key = "wjtest" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(30)
        self.region = REGION
        self.data_dir = self.workdir / "data"
        self.versions_dir = self.workdir / "versions"
        self.data_dir.mkdir(exist_ok=True)
        self.versions_dir.mkdir(exist_ok=True)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--port", self.endpoint,
            "--region", self.region,
            "posix",
            "--versioning-dir", str(self.versions_dir),
            str(self.data_dir),
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        # Credentials through the environment keep them out of `ps`; drop any VGW_*
        # settings of the caller so the gateway runs exactly as configured here.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VGW_", "ROOT_"))}
        env["ROOT_ACCESS_KEY"] = self.access_key
        env["ROOT_SECRET_KEY"] = self.secret_key
        return env

    def is_ready(self) -> bool:
        # Any HTTP answer (an unsigned request gets 403) means the S3 API is serving.
        conn = http.client.HTTPConnection(self.host, self.port, timeout=0.5)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status > 0
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def minio(self, *, fail_fast: bool = False, **kwargs: Any) -> minio.Minio:
        """A ``minio.Minio`` client for this server.

        ``fail_fast=True`` turns off urllib3's retries and shortens timeouts, so a call
        made while the server is stopped fails at once instead of after ~3 s of backoff.
        """
        import minio
        import urllib3

        if fail_fast and "http_client" not in kwargs:
            kwargs["http_client"] = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=1.0, read=5.0), retries=False
            )
        return minio.Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region=self.region,
            **kwargs,
        )
