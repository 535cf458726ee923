"""Where audit objects go: any S3-compatible store through ``minio``, or a local directory.

Both sinks write whole objects under a key; writing the same key again replaces it
(on a versioned, object-locked bucket it adds a version with the same bytes, which
listing does not show twice). Every failure surfaces as ``SinkError``.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import MinioException, S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig

from gateway.audit.config import S3Target
from gateway.audit.spool import fsync_dir

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
_NETWORK_ERRORS = (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError)


class SinkError(RuntimeError):
    """The audit store refused or could not be reached."""


class Sink(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        """Keys under ``prefix`` in lexical order, after ``start_after``."""
        ...

    def prefixes(self) -> Iterator[str]:
        """The top-level names (tenant ids) that hold objects."""
        ...

    def check(self) -> None: ...

    def describe(self) -> str: ...


class FileSink:
    """Objects as files under a directory; written to a temporary name, synced, renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise SinkError(f"unsafe object key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            fsync_dir(path.parent)
        except OSError as exc:
            raise SinkError(f"cannot write {path}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise SinkError(f"cannot read audit object {key}: {exc}") from exc

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return
        keys: list[str] = []
        for dirpath, _dirs, files in os.walk(base):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix) and key > start_after:
                    keys.append(key)
        yield from sorted(keys)

    def prefixes(self) -> Iterator[str]:
        if self.root.is_dir():
            yield from sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def check(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"cannot create the audit directory {self.root}: {exc}") from exc
        if not os.access(self.root, os.W_OK):
            raise SinkError(f"the audit directory {self.root} is not writable")

    def describe(self) -> str:
        return f"file://{self.root}"


class S3Sink:
    """An S3 bucket through the ``minio`` client; TLS unless the target allows plain http."""

    def __init__(self, target: S3Target) -> None:
        self.target = target
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
            # The uploader retries with its own backoff; don't stall a round here.
            retries=urllib3.Retry(total=1, backoff_factor=0.1),
            maxsize=4,
            cert_reqs="CERT_REQUIRED",
            ca_certs=target.ca_file or None,
        )
        self.client = Minio(
            target.endpoint,
            access_key=target.access_key,
            secret_key=target.secret_key,
            secure=target.secure,
            region=target.region or None,
            http_client=http,
        )

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(
                self.target.bucket, key, io.BytesIO(data), len(data),
                content_type="application/x-ndjson" if "/digests/" not in key
                else "application/json",
            )
        except _NETWORK_ERRORS as exc:
            raise SinkError(f"cannot upload {key} to {self.describe()}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            resp = self.client.get_object(self.target.bucket, key)
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
        except _NETWORK_ERRORS as exc:
            raise SinkError(f"cannot read {key} from {self.describe()}: {exc}") from exc

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        try:
            for obj in self.client.list_objects(
                self.target.bucket, prefix=prefix, recursive=True,
                start_after=start_after or None,
            ):
                if obj.object_name is not None and not obj.is_dir:
                    yield obj.object_name
        except _NETWORK_ERRORS as exc:
            raise SinkError(f"cannot list {prefix!r} in {self.describe()}: {exc}") from exc

    def prefixes(self) -> Iterator[str]:
        try:
            for obj in self.client.list_objects(self.target.bucket, recursive=False):
                if obj.is_dir and obj.object_name:
                    yield obj.object_name.rstrip("/")
        except _NETWORK_ERRORS as exc:
            raise SinkError(f"cannot list {self.describe()}: {exc}") from exc

    def check(self) -> None:
        try:
            exists = self.client.bucket_exists(self.target.bucket)
        except _NETWORK_ERRORS as exc:
            raise SinkError(f"cannot reach {self.describe()}: {exc}") from exc
        if exists:
            return
        if not self.target.create_bucket:
            raise SinkError(
                f"the audit bucket {self.describe()} does not exist; create it or set "
                "WORKJET_AUDIT_S3_CREATE_BUCKET=true"
            )
        self.create_bucket()

    def create_bucket(self) -> None:
        """Create the bucket, with object lock and default retention when configured."""
        t = self.target
        try:
            self.client.make_bucket(t.bucket, object_lock=bool(t.lock_mode))
            if t.lock_mode:
                mode = GOVERNANCE if t.lock_mode == "governance" else COMPLIANCE
                self.client.set_object_lock_config(
                    t.bucket, ObjectLockConfig(mode, t.retention_days, DAYS)
                )
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise SinkError(f"cannot create {self.describe()}: {exc}") from exc
        except _NETWORK_ERRORS as exc:
            raise SinkError(f"cannot create {self.describe()}: {exc}") from exc

    def retention(self) -> tuple[str, timedelta] | None:
        """The bucket's default retention, or ``None`` (used by tests and the CLI)."""
        try:
            cfg = self.client.get_object_lock_config(self.target.bucket)
        except S3Error:
            return None
        if cfg.mode is None or cfg.duration is None:
            return None
        days = cfg.duration if cfg.duration_unit == DAYS.title() else cfg.duration * 365
        return cfg.mode, timedelta(days=days)

    def describe(self) -> str:
        scheme = "s3" if self.target.secure else "s3+http"
        return f"{scheme}://{self.target.endpoint}/{self.target.bucket}"


def open_sink(target: S3Target | Path) -> FileSink | S3Sink:
    return S3Sink(target) if isinstance(target, S3Target) else FileSink(target)
