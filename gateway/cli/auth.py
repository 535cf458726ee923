"""Operator commands for credentials and admission: key/user/session listing and revocation,
allowed domains and invites. The operator is whoever runs ``workjet-gateway`` against the
database; there is no operator role in the HTTP API.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from gateway.cli.admin import fail, migrated_store, tenant_id_for
from gateway.store import DuplicateError, Store, TenantScope
from gateway.store.tenant_scope import ROLES

Subparsers = Any


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")


def _scope(args: argparse.Namespace) -> tuple[Store, TenantScope] | None:
    store = migrated_store()
    tenant_id = tenant_id_for(store, args.tenant)
    if tenant_id is None:
        return None
    return store, store.tenant(tenant_id)


def add_key_actions(key_sub: Subparsers) -> None:
    listing = key_sub.add_parser("list", help="list a tenant's API keys (never the keys)")
    listing.add_argument("--tenant", required=True, metavar="NAME")
    listing.add_argument("--user", metavar="EMAIL", help="only this user's keys")
    listing.set_defaults(handler=cmd_key_list)
    revoke = key_sub.add_parser("revoke", help="revoke an API key; effective on its next use")
    revoke.add_argument("--tenant", required=True, metavar="NAME")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=cmd_key_revoke)


def add_user_actions(user_sub: Subparsers) -> None:
    listing = user_sub.add_parser("list", help="list a tenant's users")
    listing.add_argument("--tenant", required=True, metavar="NAME")
    listing.set_defaults(handler=cmd_user_list)
    invite = user_sub.add_parser("invite", help="let this email sign in with Google")
    invite.add_argument("--tenant", required=True, metavar="NAME")
    invite.add_argument("email")
    invite.add_argument("--role", choices=ROLES, default="member")
    invite.set_defaults(handler=cmd_user_invite)


def add_tenant_actions(tenant_sub: Subparsers) -> None:
    allow = tenant_sub.add_parser(
        "allow-domain", help="let verified Google identities of this domain join the tenant"
    )
    allow.add_argument("name")
    allow.add_argument("domain")
    allow.set_defaults(handler=cmd_tenant_allow_domain)
    remove = tenant_sub.add_parser("remove-domain", help="stop admitting a domain")
    remove.add_argument("name")
    remove.add_argument("domain")
    remove.set_defaults(handler=cmd_tenant_remove_domain)
    domains = tenant_sub.add_parser("domains", help="list a tenant's allowed domains")
    domains.add_argument("name")
    domains.set_defaults(handler=cmd_tenant_domains)


def register(subparsers: Subparsers) -> None:
    session = subparsers.add_parser("session", help="manage browser and terminal sessions")
    session_sub = session.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = session_sub.add_parser("list", help="list a tenant's live sessions")
    listing.add_argument("--tenant", required=True, metavar="NAME")
    listing.add_argument("--user", metavar="EMAIL", help="only this user's sessions")
    listing.set_defaults(handler=cmd_session_list)
    revoke = session_sub.add_parser("revoke", help="end a session at once")
    revoke.add_argument("--tenant", required=True, metavar="NAME")
    revoke.add_argument("session_id")
    revoke.set_defaults(handler=cmd_session_revoke)


def _user_filter(scope: TenantScope, email: str | None) -> tuple[bool, str | None]:
    if email is None:
        return True, None
    user = scope.user_by_email(email)
    return (False, None) if user is None else (True, str(user.id))


def cmd_key_list(args: argparse.Namespace) -> int:
    found = _scope(args)
    if found is None:
        return fail(f"no tenant named {args.tenant!r}")
    _, scope = found
    ok, user_id = _user_filter(scope, args.user)
    if not ok:
        return fail(f"no user {args.user!r} in tenant {args.tenant!r}")
    emails = {row.id: row.email for row in scope.list_users()}
    for row in scope.list_api_keys(user_id):
        state = "revoked" if row.revoked_at is not None else "active"
        print(
            f"{row.id}\t{row.display_prefix}...\t{emails.get(row.user_id, '?')}\t{row.name}\t"
            f"{state}\tcreated {_when(row.created_at)}\tlast used {_when(row.last_used_at)}\t"
            f"expires {_when(row.expires_at)}"
        )
    return 0


def cmd_key_revoke(args: argparse.Namespace) -> int:
    found = _scope(args)
    if found is None:
        return fail(f"no tenant named {args.tenant!r}")
    if not found[1].revoke_api_key(args.key_id):
        return fail(f"no active API key {args.key_id!r} in tenant {args.tenant!r}")
    print(f"revoked API key {args.key_id}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    found = _scope(args)
    if found is None:
        return fail(f"no tenant named {args.tenant!r}")
    for row in found[1].list_users():
        print(f"{row.id}\t{row.email}\t{row.role}")
    return 0


def cmd_user_invite(args: argparse.Namespace) -> int:
    found = _scope(args)
    if found is None:
        return fail(f"no tenant named {args.tenant!r}")
    try:
        print(found[1].create_invite(args.email, args.role, "cli"))
    except DuplicateError as exc:
        return fail(str(exc))
    return 0


def cmd_session_list(args: argparse.Namespace) -> int:
    found = _scope(args)
    if found is None:
        return fail(f"no tenant named {args.tenant!r}")
    _, scope = found
    ok, user_id = _user_filter(scope, args.user)
    if not ok:
        return fail(f"no user {args.user!r} in tenant {args.tenant!r}")
    emails = {row.id: row.email for row in scope.list_users()}
    for row in scope.list_sessions(user_id):
        print(
            f"{row.id}\t{emails.get(row.user_id, '?')}\t{row.kind}\t{row.client_name}\t"
            f"created {_when(row.created_at)}\texpires {_when(row.expires_at)}"
        )
    return 0


def cmd_session_revoke(args: argparse.Namespace) -> int:
    found = _scope(args)
    if found is None:
        return fail(f"no tenant named {args.tenant!r}")
    if not found[1].revoke_session(args.session_id):
        return fail(f"no live session {args.session_id!r} in tenant {args.tenant!r}")
    print(f"revoked session {args.session_id}")
    return 0


def _tenant(name: str) -> TenantScope | None:
    store = migrated_store()
    tenant_id = tenant_id_for(store, name)
    return None if tenant_id is None else store.tenant(tenant_id)


def cmd_tenant_allow_domain(args: argparse.Namespace) -> int:
    scope = _tenant(args.name)
    if scope is None:
        return fail(f"no tenant named {args.name!r}")
    domain = args.domain.strip().lower().lstrip("@")
    if "." not in domain or any(ch.isspace() or ch in "@/" for ch in domain):
        return fail(f"{args.domain!r} is not a domain name")
    try:
        scope.add_domain(domain)
    except DuplicateError as exc:
        return fail(str(exc))
    print(f"verified Google identities of {domain} may now join {args.name}")
    return 0


def cmd_tenant_remove_domain(args: argparse.Namespace) -> int:
    scope = _tenant(args.name)
    if scope is None:
        return fail(f"no tenant named {args.name!r}")
    if not scope.remove_domain(args.domain.strip().lstrip("@")):
        return fail(f"{args.domain!r} is not allowed for {args.name!r}")
    print(f"{args.domain} no longer admits anyone to {args.name}")
    return 0


def cmd_tenant_domains(args: argparse.Namespace) -> int:
    scope = _tenant(args.name)
    if scope is None:
        return fail(f"no tenant named {args.name!r}")
    for domain in scope.list_domains():
        print(domain)
    return 0
