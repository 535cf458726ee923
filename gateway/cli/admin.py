"""Database and principal administration: init, tenant, user, key."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.auth.keys import display_prefix, generate_api_key, hash_secret
from gateway.cli import limits as limits_cli
from gateway.config import Settings
from gateway.store import DuplicateError, Store
from gateway.store.tenant_scope import ROLES

Subparsers = Any  # argparse's _SubParsersAction is private


def register(subparsers: Subparsers) -> None:
    init = subparsers.add_parser("init", help="create or migrate the database")
    init.set_defaults(handler=cmd_init)

    tenant = subparsers.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = tenant_sub.add_parser("create", help="create a tenant; prints its id")
    create.add_argument("name")
    create.set_defaults(handler=cmd_tenant_create)
    listing = tenant_sub.add_parser("list", help="list tenants")
    listing.set_defaults(handler=cmd_tenant_list)
    auth_commands().add_tenant_actions(tenant_sub)
    limits_cli.add_tenant_action(tenant_sub)

    user = subparsers.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = user_sub.add_parser("create", help="add a user to a tenant")
    create.add_argument("--tenant", required=True, metavar="NAME")
    create.add_argument("email")
    create.add_argument("--role", choices=ROLES, default="member")
    create.set_defaults(handler=cmd_user_create)
    auth_commands().add_user_actions(user_sub)

    key = subparsers.add_parser("key", help="manage API keys")
    key_sub = key.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = key_sub.add_parser(
        "create", help="create an API key; prints it once, alone on the last line"
    )
    create.add_argument("--tenant", required=True, metavar="NAME")
    create.add_argument("--user", required=True, metavar="EMAIL")
    create.add_argument("--name", default="cli", metavar="LABEL")
    create.set_defaults(handler=cmd_key_create)
    auth_commands().add_key_actions(key_sub)


def auth_commands() -> Any:
    """The auth work's actions on these commands (imported late: it imports this module)."""
    from gateway.cli import auth

    return auth


def open_store() -> Store:
    return Store(Settings.from_env().database_url)


def migrated_store() -> Store:
    store = open_store()
    if store.schema_version() == 0:
        raise SystemExit("workjet-gateway: the database is empty; run `workjet-gateway init`")
    return store


def fail(message: str) -> int:
    print(f"workjet-gateway: {message}", file=sys.stderr)
    return 1


def tenant_id_for(store: Store, name: str) -> str | None:
    row = store.tenant_by_name(name)
    return None if row is None else str(row.id)


def cmd_init(args: argparse.Namespace) -> int:
    store = open_store()
    applied = store.migrate()
    version = store.schema_version()
    if applied:
        print(f"database migrated to schema version {version} (applied {applied})")
    else:
        print(f"database already at schema version {version}")
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    try:
        print(migrated_store().create_tenant(args.name))
    except DuplicateError as exc:
        return fail(str(exc))
    return 0


def cmd_tenant_list(args: argparse.Namespace) -> int:
    for row in migrated_store().list_tenants():
        print(f"{row.id}\t{row.name}")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    store = migrated_store()
    tenant_id = tenant_id_for(store, args.tenant)
    if tenant_id is None:
        return fail(f"no tenant named {args.tenant!r}")
    try:
        print(store.tenant(tenant_id).create_user(args.email, args.role))
    except DuplicateError as exc:
        return fail(str(exc))
    return 0


def cmd_key_create(args: argparse.Namespace) -> int:
    store = migrated_store()
    tenant_id = tenant_id_for(store, args.tenant)
    if tenant_id is None:
        return fail(f"no tenant named {args.tenant!r}")
    scope = store.tenant(tenant_id)
    user = scope.user_by_email(args.user)
    if user is None:
        return fail(f"no user {args.user!r} in tenant {args.tenant!r}")
    key = generate_api_key()
    key_id = scope.create_api_key(
        user_id=user.id,
        name=args.name,
        display_prefix=display_prefix(key),
        key_hash=hash_secret(key, Settings.from_env().api_key_pepper),
        created_by="cli",
    )
    print(f"created API key {key_id} ({display_prefix(key)}...) for {args.user}; "
          "it is shown once, store it now:")
    print(key)
    return 0
