"""Who may touch which object: the one place services ask before reading or changing something.

Each rule answers "may this user act on this object?". Services call `ensure_access`; an object
the user may not touch is reported as not found, so ids of other people's data reveal nothing.
"""

from __future__ import annotations

from functools import singledispatch

from backend.accounts.models import ApiToken, Organisation, Role, User
from backend.catalog.models import Product
from backend.certification.models import Certificate
from backend.errors import NotFound
from backend.vendors.models import Vendor

# Who acts: a user, or for a vendor's own data, the vendor profile of the logged-in vendor.
Actor = User | Vendor


@singledispatch
def may_access(target: object, actor: Actor) -> bool:
    raise TypeError(f"no access rule for {type(target).__name__}")


@may_access.register
def _(target: ApiToken, actor: Actor) -> bool:
    return isinstance(actor, User) and target.user_id == actor.id


@may_access.register
def _(target: User, actor: Actor) -> bool:
    return isinstance(actor, User) and (target.id == actor.id or actor.role == Role.ADMIN)


@may_access.register
def _(target: Certificate, actor: Actor) -> bool:
    return isinstance(actor, Vendor) and target.vendor_id == actor.id


@may_access.register
def _(target: Product, actor: Actor) -> bool:
    return isinstance(actor, Vendor) and target.vendor_id == actor.id


@may_access.register
def _(target: Organisation, actor: Actor) -> bool:
    if not isinstance(actor, User):
        return False
    if actor.role == Role.ADMIN:
        return True
    if actor.role == Role.MANAGER:
        return target.zone_id == actor.zone_id
    return actor.organisation_id == target.id


def ensure_access(target: object | None, actor: Actor, message: str) -> None:
    """Raise NotFound (with the given message) unless the object exists and the actor may touch it."""
    if target is None or not may_access(target, actor):
        raise NotFound(message)
