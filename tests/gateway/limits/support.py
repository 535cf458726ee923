"""Helpers shared by the limits tests."""

from __future__ import annotations

from gateway.auth.principal import Principal
from tests.gateway.server import Provisioned


def principal_of(who: Provisioned, role: str = "owner") -> Principal:
    return Principal(
        tenant_id=who.tenant_id, tenant_name=who.tenant_name, user_id=who.user_id,
        email=who.email, role=role, credential_id=who.key_id, kind="api_key",  # type: ignore[arg-type]
    )
