"""The acting vendor as a Litestar dependency: a vendor-only handler names `vendor` and gets the caller's own
profile (403 for another role, ProfileIncomplete before the profile exists), as vendors.service.require_vendor."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency, Provide

from backend.accounts.auth import UserRequest
from backend.db import DbSession
from backend.vendors.models import Vendor
from backend.vendors.service import require_vendor


async def current_vendor(request: UserRequest, db_session: DbSession) -> Vendor:
    return await require_vendor(session=db_session, user=request.user)


CURRENT_VENDOR = {"vendor": Provide(current_vendor)}
CurrentVendor: TypeAlias = NamedDependency[Vendor]
