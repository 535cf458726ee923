"""Current table definitions, used by queries (migrations keep their own frozen copies).

Times are integer seconds since the epoch (UTC), the same on SQLite and PostgreSQL.
Every table that belongs to a tenant has ``tenant_id``; queries on them go through
``TenantScope`` so that the filter cannot be forgotten.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, String, Table

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("display_prefix", String(24), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(40), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
)

# --- authentication (migration 2) ---------------------------------------------------------

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("client_name", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

# Not tenant rows until approved: reached only by a code's hash (``Store`` methods).
device_codes = Table(
    "device_codes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("device_code_hash", String(64), nullable=False, unique=True),
    Column("user_code_hash", String(64), nullable=False, unique=True),
    Column("client_name", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("interval_ms", Integer, nullable=False),
    Column("last_poll_ms", BigInteger),
    Column("tenant_id", String(40), ForeignKey("tenants.id")),
    Column("user_id", String(40), ForeignKey("users.id")),
)

# OAuth transactions between the redirect to the provider and the callback.
login_flows = Table(
    "login_flows",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("binding_hash", String(64), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("return_to", String(300), nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

tenant_domains = Table(
    "tenant_domains",
    metadata,
    Column("domain", String(253), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
)

invites = Table(
    "invites",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
