"""The JSON API's role guards, each named once: a controller or handler says who may call it with one of these.
(The pages name theirs in web.roles.)"""

from __future__ import annotations

from backend.accounts.auth import requires_role
from backend.accounts.models import Role
from backend.orders.cart import BUYER_ROLES

VENDORS = requires_role(Role.VENDOR)
BUYERS = requires_role(*BUYER_ROLES)
CANTEEN_STAFF = requires_role(Role.CANTEEN_STAFF)
# An admin may do whatever a zone's market manager does, in every zone.
MANAGERS = requires_role(Role.MANAGER, Role.ADMIN)
ADMINS = requires_role(Role.ADMIN)
# An invoice is read by its canteen's staff, its zone's managers and the admins.
INVOICE_READERS = requires_role(Role.CANTEEN_STAFF, Role.MANAGER, Role.ADMIN)
