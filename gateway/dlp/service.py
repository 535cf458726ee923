"""Tenants' DLP policies in the database, and the per-tenant engines the pipeline uses.

``DlpService.engine_for(tenant_id)`` returns the engine for the tenant's stored policy
(the default policy when none is stored), cached for ``ttl`` seconds so that a policy
change reaches every gunicorn worker without a database read per request.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from sqlalchemy import BigInteger, Column, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from gateway.dlp.engine import DlpEngine
from gateway.dlp.policy import DlpPolicy, PolicyError
from gateway.dlp.ruleset import RuleSet, default_rules

_md = MetaData()
dlp_policies = Table(
    "dlp_policies", _md,
    Column("tenant_id", String(40), primary_key=True),
    Column("document", String(65536), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)
MAX_DOCUMENT = 65536


class PolicyStore:
    """Every query filters by the tenant id it is given; there is no cross-tenant read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, tenant_id: str) -> DlpPolicy | None:
        with self.engine.connect() as conn:
            doc = conn.execute(
                select(dlp_policies.c.document).where(dlp_policies.c.tenant_id == tenant_id)
            ).scalar()
        if doc is None:
            return None
        return DlpPolicy.from_dict(json.loads(doc), default_rules().types)

    def save(self, tenant_id: str, policy: DlpPolicy) -> None:
        document = json.dumps(policy.to_dict(), sort_keys=True)
        if len(document) > MAX_DOCUMENT:
            raise PolicyError("the policy is larger than 64 KiB")
        values = {"document": document, "updated_at": int(time.time() * 1000)}
        with self.engine.begin() as conn:
            done = conn.execute(
                update(dlp_policies).where(dlp_policies.c.tenant_id == tenant_id).values(**values)
            ).rowcount
            if not done:
                conn.execute(insert(dlp_policies).values(tenant_id=tenant_id, **values))

    def delete(self, tenant_id: str) -> bool:
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(dlp_policies).where(dlp_policies.c.tenant_id == tenant_id)
            ).rowcount
        return bool(gone)


class DlpService:
    """Registered as ``services.dlp``; the pipeline calls ``engine_for(tenant_id)``."""

    def __init__(
        self, store: PolicyStore | None, rules: RuleSet | None = None, ttl: float = 30.0
    ) -> None:
        self._store = store
        self._rules = rules or default_rules()
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, DlpEngine]] = {}
        self._default = DlpEngine.from_policy(DlpPolicy(), self._rules)
        # load the validators' lazily imported data now, not on a user's first request
        self._default.scan_text("+1 415-555-2671 bob@acme.io 4539 1488 0343 6467")

    def engine_for(self, tenant_id: str, tenant_name: str = "") -> DlpEngine:
        now = time.monotonic()
        cached = self._cache.get(tenant_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        policy = self._store.load(tenant_id) if self._store is not None else None
        engine = self._default if policy is None else DlpEngine.from_policy(policy, self._rules)
        with self._lock:
            if len(self._cache) > 10000:
                self._cache.clear()  # bound the memory; engines are cheap to rebuild
            self._cache[tenant_id] = (now, engine)
        return engine

    def invalidate(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)


def init_app(services: Any) -> DlpService:
    """Wire DLP into the services container (called by ``create_app``)."""
    service = DlpService(PolicyStore(services.store.engine))
    services.dlp = service
    return service


def tenant_policy_store(tenant_name: str) -> tuple[PolicyStore, str]:
    """For the CLI: the policy store of the configured database and the tenant's id."""
    from gateway.config import Settings
    from gateway.store import Store

    store = Store(Settings.from_env().database_url)
    if store.schema_version() < 5:
        raise PolicyError("the database has no DLP policy table; run `workjet-gateway init`")
    row = store.tenant_by_name(tenant_name)
    if row is None:
        raise PolicyError(f"no tenant named {tenant_name!r}")
    return PolicyStore(store.engine), str(row.id)


def stored_policy_by_name(tenant_name: str) -> DlpPolicy:
    """The CLI's ``--tenant NAME`` without ``--policy``: the tenant's stored policy."""
    policies, tenant_id = tenant_policy_store(tenant_name)
    return policies.load(tenant_id) or DlpPolicy()
