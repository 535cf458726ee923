"""Which tenant a verified identity may enter, and as which user.

In order: an existing user with that email (the oldest membership), an invite for the
email (accepted into a user with the invite's role), or a tenant that allows the
identity's domain (Google's ``hd`` claim, else the verified email's domain; joins as a
member). Anyone else is not admitted and gets no session.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.oidc import Identity
from gateway.store import DuplicateError, Store


@dataclass(frozen=True)
class Admission:
    tenant_id: str
    user_id: str
    created: bool = False  # the user was made now (from an invite or an allowed domain)


def admit(store: Store, identity: Identity) -> Admission | None:
    email = identity.email
    members = store.memberships(email)
    if members:
        return Admission(str(members[0].tenant_id), str(members[0].id))
    for tenant_id in store.tenants_inviting(email):
        user_id = store.tenant(tenant_id).accept_invite(email)
        if user_id is not None:
            return Admission(tenant_id, user_id, created=True)
    domain = identity.hosted_domain or email.rpartition("@")[2]
    allowed = store.tenant_for_domain(domain)
    if allowed is None:
        return None
    tenant_id = allowed
    scope = store.tenant(tenant_id)
    try:
        return Admission(tenant_id, scope.create_user(email, "member"), created=True)
    except DuplicateError:  # a concurrent first sign-in created it
        user = scope.user_by_email(email)
        return None if user is None else Admission(tenant_id, str(user.id))
