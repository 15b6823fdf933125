"""JSON API of the platform's operator: zones and their delivery points, market managers, accounts and the
platform's bank account. The same service functions as the admin's pages; only admins may call them."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ControllerRouterHandler

from backend.accounts.auth import BEARER, UserRequest, requires_role
from backend.accounts.models import Role
from backend.administration import service
from backend.administration.schemas import (
    AccountPublic,
    ManagerInvitationCreated,
    ManagerInvitationInput,
    ManagerInvitationPublic,
    MoveManagerInput,
    PasswordResetLinkCreated,
    PlatformBankPublic,
    ReasonInput,
    ZoneInput,
    ZonePublic,
)
from backend.clock import utcnow
from backend.config import Settings
from backend.db import DbSession
from backend.links import absolute_link
from backend.orders import delivery
from backend.orders.schemas import DeliveryPointInput, DeliveryPointPublic
from backend.payments.payout_accounts import PayoutAccountInput


class AdministrationApi(Controller):
    path = "/api/v1/admin"
    tags = ["administration"]
    guards = [requires_role(Role.ADMIN)]
    security = BEARER

    @post("/zones", summary="Create a zone (code, names, centre, commission); audit-logged")
    async def create_zone(self, request: UserRequest, data: JSONBody[ZoneInput], db_session: DbSession) -> ZonePublic:
        return ZonePublic.of(await service.create_zone(session=db_session, actor=request.user, data=data))

    @put("/zones/{zone_id:int}", summary="Change a zone's code, names, centre or commission; audit-logged")
    async def update_zone(
        self, request: UserRequest, zone_id: FromPath[int], data: JSONBody[ZoneInput], db_session: DbSession
    ) -> ZonePublic:
        zone = await service.update_zone(session=db_session, actor=request.user, zone_id=zone_id, data=data)
        return ZonePublic.of(zone)

    @get("/zones/{zone_id:int}/delivery-points", summary="A zone's gates and dormitories, closed ones too")
    async def delivery_points(
        self, request: UserRequest, zone_id: FromPath[int], db_session: DbSession
    ) -> list[DeliveryPointPublic]:
        _, points = await service.zone_and_points(session=db_session, actor=request.user, zone_id=zone_id)
        return [DeliveryPointPublic.of(point) for point in points]

    @post("/zones/{zone_id:int}/delivery-points", summary="Add a gate or dormitory to a zone; audit-logged")
    async def add_delivery_point(
        self, request: UserRequest, zone_id: FromPath[int], data: JSONBody[DeliveryPointInput], db_session: DbSession
    ) -> DeliveryPointPublic:
        point = await delivery.add_delivery_point(
            session=db_session,
            actor=request.user,
            zone_id=zone_id,
            kind=data.kind,
            name=data.name,
            latitude=data.latitude,
            longitude=data.longitude,
        )
        return DeliveryPointPublic.of(point)

    @get("/managers", summary="Every zone's active market managers")
    async def managers(self, request: UserRequest, db_session: DbSession) -> list[AccountPublic]:
        overview = await service.managers_overview(session=db_session, actor=request.user, now=utcnow())
        return [AccountPublic.of(user) for user, _ in overview.managers]

    @get("/manager-invitations", summary="Invitations to manage a zone that are still open")
    async def invitations(self, request: UserRequest, db_session: DbSession) -> list[ManagerInvitationPublic]:
        overview = await service.managers_overview(session=db_session, actor=request.user, now=utcnow())
        return [ManagerInvitationPublic.of(invitation) for invitation, _ in overview.invitations]

    @post(
        "/manager-invitations",
        summary="Invite a person to manage a zone: the answer's link (shown once) lets them set a password",
    )
    async def invite_manager(
        self,
        request: UserRequest,
        data: JSONBody[ManagerInvitationInput],
        db_session: DbSession,
        settings: NamedDependency[Settings],
    ) -> ManagerInvitationCreated:
        raw, invitation = await service.invite_manager(
            session=db_session,
            actor=request.user,
            zone_id=data.zone_id,
            phone=data.phone,
            full_name=data.full_name,
            now=utcnow(),
        )
        public = ManagerInvitationPublic.of(invitation)
        return ManagerInvitationCreated(
            **public.model_dump(), link=absolute_link(request, settings, f"/invitations/{raw}")
        )

    @delete("/manager-invitations/{invitation_id:int}", summary="Withdraw an open invitation", status_code=200)
    async def withdraw_invitation(
        self, request: UserRequest, invitation_id: FromPath[int], db_session: DbSession
    ) -> ManagerInvitationPublic:
        invitation = await service.withdraw_invitation(
            session=db_session, actor=request.user, invitation_id=invitation_id, now=utcnow()
        )
        return ManagerInvitationPublic.of(invitation)

    @put("/managers/{manager_id:int}/zone", summary="Move a manager to another zone; audit-logged")
    async def move_manager(
        self, request: UserRequest, manager_id: FromPath[int], data: JSONBody[MoveManagerInput], db_session: DbSession
    ) -> AccountPublic:
        manager = await service.move_manager(
            session=db_session, actor=request.user, manager_id=manager_id, zone_id=data.zone_id
        )
        return AccountPublic.of(manager)

    @post(
        "/managers/{manager_id:int}/remove",
        summary="Remove a manager: the account is deactivated, logged out and its tokens revoked",
    )
    async def remove_manager(
        self, request: UserRequest, manager_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> AccountPublic:
        manager = await service.remove_manager(
            session=db_session, actor=request.user, manager_id=manager_id, reason=data.reason, now=utcnow()
        )
        return AccountPublic.of(manager)

    @get("/users", summary="Find accounts by phone number (the whole number, or at least 4 of its digits)")
    async def find_users(
        self, request: UserRequest, db_session: DbSession, phone: FromQuery[str]
    ) -> list[AccountPublic]:
        users = await service.find_users_by_phone(session=db_session, actor=request.user, phone=phone)
        return [AccountPublic.of(user) for user in users]

    @get("/users/{user_id:int}", summary="One account")
    async def user(self, request: UserRequest, user_id: FromPath[int], db_session: DbSession) -> AccountPublic:
        detail = await service.account_detail(session=db_session, actor=request.user, user_id=user_id, now=utcnow())
        return AccountPublic.of(detail.user)

    @post(
        "/users/{user_id:int}/deactivate",
        summary="Deactivate an account: it cannot log in, its sessions end and its API tokens are revoked",
    )
    async def deactivate(
        self, request: UserRequest, user_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> AccountPublic:
        user = await service.deactivate_user(
            session=db_session, actor=request.user, user_id=user_id, reason=data.reason, now=utcnow()
        )
        return AccountPublic.of(user)

    @post("/users/{user_id:int}/reactivate", summary="Let a deactivated account log in again")
    async def reactivate(
        self, request: UserRequest, user_id: FromPath[int], data: JSONBody[ReasonInput], db_session: DbSession
    ) -> AccountPublic:
        user = await service.reactivate_user(
            session=db_session, actor=request.user, user_id=user_id, reason=data.reason
        )
        return AccountPublic.of(user)

    @post(
        "/users/{user_id:int}/password-reset-link",
        summary="A one-time link (24 hours) for the owner to choose a new password; shown once",
    )
    async def password_reset_link(
        self, request: UserRequest, user_id: FromPath[int], db_session: DbSession, settings: NamedDependency[Settings]
    ) -> PasswordResetLinkCreated:
        raw, link = await service.create_password_reset_link(
            session=db_session, actor=request.user, user_id=user_id, now=utcnow()
        )
        return PasswordResetLinkCreated(
            user_id=user_id,
            link=absolute_link(request, settings, f"/reset-password/{raw}"),
            expires_at=link.expires_at,
        )

    @get("/settings/bank-account", summary="The platform's bank account that buyers transfer to and invoices name")
    async def bank_account(
        self, request: UserRequest, db_session: DbSession, settings: NamedDependency[Settings]
    ) -> PlatformBankPublic | None:
        stored = await service.stored_platform_bank(session=db_session, actor=request.user)
        if stored is not None:
            return PlatformBankPublic(
                bank_name=stored.bank_name,
                account_number=stored.account_number,
                account_holder=stored.account_holder,
                stored=True,
            )
        bank = settings.platform_bank
        if bank is None:
            return None
        return PlatformBankPublic(
            bank_name=bank.name, account_number=bank.account_number, account_holder=bank.account_holder, stored=False
        )

    @put("/settings/bank-account", summary="Set the platform's bank account (replaces PLATFORM_BANK_*); audit-logged")
    async def set_bank_account(
        self, request: UserRequest, data: JSONBody[PayoutAccountInput], db_session: DbSession
    ) -> PlatformBankPublic:
        account = await service.save_platform_bank(session=db_session, actor=request.user, data=data, now=utcnow())
        return PlatformBankPublic(
            bank_name=account.bank_name,
            account_number=account.account_number,
            account_holder=account.account_holder,
            stored=True,
        )


API_ROUTES: list[ControllerRouterHandler] = [AdministrationApi]
