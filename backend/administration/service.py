"""What the platform's operator (the admin) does: zones, the market managers of each zone, people's accounts
(found by phone, deactivated, given a one-time link to set a new password) and the platform's bank account.

Every function refuses anyone but an admin, and everything an admin changes goes into the audit log. Service
functions take the session as a keyword and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.accounts.models import AuthSession, Role, User, Zone
from backend.accounts.passwords import hash_password
from backend.accounts.service import (
    MSG_PHONE_INVALID,
    MSG_PHONE_TAKEN,
    check_password_rules,
    create_user,
    end_sessions_and_tokens,
    hash_token,
)
from backend.administration.models import ManagerInvitation, PasswordResetLink, PlatformBankAccount
from backend.administration.schemas import ZoneInput
from backend.config import PlatformBank
from backend.db import matched_rows
from backend.errors import N_, FieldError, Forbidden, NotFound, ValidationFailed
from backend.location import location_errors
from backend.moderation.audit import record
from backend.orders.models import DeliveryPoint
from backend.payments import ledger
from backend.payments.payout_accounts import PayoutAccountInput
from backend.phone import InvalidPhoneNumber, normalize_phone

INVITATION_LIFETIME = timedelta(days=7)
RESET_LINK_LIFETIME = timedelta(hours=24)
FOUND_USERS_LIMIT = 20

MSG_ZONE_NOT_FOUND = N_("This zone does not exist.")
MSG_ZONE_CODE_TAKEN = N_("Another zone already has this code.")
MSG_ZONE_CHOICE = N_("Choose a zone.")
MSG_MANAGER_NOT_FOUND = N_("This manager does not exist.")
MSG_USER_NOT_FOUND = N_("This account does not exist.")
MSG_INVITATION_DEAD = N_("This invitation has expired, was withdrawn or was already used. Ask the admin for a new one.")
MSG_INVITATION_NOT_FOUND = N_("This invitation does not exist or is no longer open.")
MSG_RESET_LINK_DEAD = N_("This link has expired or was already used. Ask the admin for a new one.")
MSG_NOT_YOURSELF = N_("You cannot deactivate your own account.")
MSG_INACTIVE = N_("This account is deactivated: reactivate it first.")
MSG_SEARCH_PHONE = N_("Type at least 4 digits of the phone number.")


def _ensure_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden()


def _new_token() -> tuple[str, str]:
    """A random token for a link, and the SHA-256 that is all the database keeps of it."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


# --- zones ------------------------------------------------------------------------------------------------


def _zone_fields(zone: Zone) -> dict[str, object]:
    return {
        "code": zone.code,
        "name": zone.name,
        "regency": zone.regency,
        "province": zone.province,
        "latitude": zone.latitude,
        "longitude": zone.longitude,
    }


async def _check_zone(*, session: AsyncSession, data: ZoneInput, zone_id: int | None) -> None:
    errors = location_errors(data.latitude, data.longitude, required=True)
    taken = await session.execute(
        select(col(Zone.id)).where(func.upper(col(Zone.code)) == data.code, col(Zone.id) != (zone_id or 0))
    )
    if taken.first() is not None:
        errors.append(FieldError("code", MSG_ZONE_CODE_TAKEN))
    if errors:
        raise ValidationFailed(errors)


async def create_zone(*, session: AsyncSession, actor: User, data: ZoneInput) -> Zone:
    """A new zone, with its centre (where the catalogue measures from for a buyer without a location) and the
    platform's commission on its orders."""
    _ensure_admin(actor)
    await _check_zone(session=session, data=data, zone_id=None)
    zone = Zone(
        code=data.code,
        name=data.name,
        regency=data.regency,
        province=data.province,
        latitude=data.latitude,
        longitude=data.longitude,
        commission_bps=data.commission_bps,
    )
    session.add(zone)
    await session.flush()
    await record(
        session,
        actor,
        "zone.create",
        zone,
        zone.id,
        after={**_zone_fields(zone), "commission_bps": zone.commission_bps},
    )
    return zone


async def update_zone(*, session: AsyncSession, actor: User, zone_id: int, data: ZoneInput) -> Zone:
    """Change a zone's code, names, centre or commission; each change is in the audit log (the commission on its
    own line, as the commission page records it)."""
    _ensure_admin(actor)
    zone = await session.get(Zone, zone_id)
    if zone is None:
        raise NotFound(MSG_ZONE_NOT_FOUND)
    await _check_zone(session=session, data=data, zone_id=zone.id)
    before = _zone_fields(zone)
    zone.code, zone.name, zone.regency, zone.province = data.code, data.name, data.regency, data.province
    zone.latitude, zone.longitude = data.latitude, data.longitude
    session.add(zone)
    after = _zone_fields(zone)
    if after != before:
        await record(session, actor, "zone.update", zone, zone.id, before=before, after=after)
    return await ledger.set_commission_rate(
        session=session, actor=actor, zone_id=zone.id, commission_bps=data.commission_bps
    )


async def zone_and_points(*, session: AsyncSession, actor: User, zone_id: int) -> tuple[Zone, list[DeliveryPoint]]:
    """A zone with all its gates and dormitories, open ones first (two queries)."""
    _ensure_admin(actor)
    zone = await session.get(Zone, zone_id)
    if zone is None:
        raise NotFound(MSG_ZONE_NOT_FOUND)
    points = await session.execute(
        select(DeliveryPoint)
        .where(col(DeliveryPoint.zone_id) == zone.id)
        .order_by(col(DeliveryPoint.active).desc(), col(DeliveryPoint.kind), col(DeliveryPoint.name))
    )
    return zone, list(points.scalars())


# --- managers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagersOverview:
    managers: list[tuple[User, Zone]]  # active managers, by zone then name
    invitations: list[tuple[ManagerInvitation, Zone]]  # open invitations, newest first
    zones: list[Zone]


async def managers_overview(*, session: AsyncSession, actor: User, now: datetime) -> ManagersOverview:
    """Every zone's active managers, the invitations still open at `now`, and the zones (three queries)."""
    _ensure_admin(actor)
    managers = await session.execute(
        select(User, Zone)
        .join(Zone, col(Zone.id) == col(User.zone_id))
        .where(col(User.role) == Role.MANAGER, col(User.is_active).is_(True))
        .order_by(col(Zone.code), col(User.full_name))
    )
    invitations = await session.execute(
        select(ManagerInvitation, Zone)
        .join(Zone, col(Zone.id) == col(ManagerInvitation.zone_id))
        .where(*_open_invitation(now))
        .order_by(col(ManagerInvitation.created_at).desc(), col(ManagerInvitation.id).desc())
    )
    zones = await session.execute(select(Zone).order_by(col(Zone.code)))
    return ManagersOverview(
        managers=[(user, zone) for user, zone in managers.all()],
        invitations=[(invitation, zone) for invitation, zone in invitations.all()],
        zones=list(zones.scalars()),
    )


def _open_invitation(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(ManagerInvitation.accepted_at).is_(None),
        col(ManagerInvitation.withdrawn_at).is_(None),
        col(ManagerInvitation.expires_at) > now,
    )


async def invite_manager(
    *, session: AsyncSession, actor: User, zone_id: int, phone: str, full_name: str, now: datetime
) -> tuple[str, ManagerInvitation]:
    """Invite a person to manage a zone: returns the link's token (shown once, for the admin to send) and the
    invitation. The number must not have an account yet; an earlier open invitation to it is withdrawn."""
    _ensure_admin(actor)
    errors: list[FieldError] = []
    zone = await session.get(Zone, zone_id)
    if zone is None:
        errors.append(FieldError("zone_id", MSG_ZONE_CHOICE))
    e164 = ""
    try:
        e164 = normalize_phone(phone)
    except InvalidPhoneNumber:
        errors.append(FieldError("phone", MSG_PHONE_INVALID))
    if e164 and (await session.execute(select(col(User.id)).where(col(User.phone) == e164))).first() is not None:
        errors.append(FieldError("phone", MSG_PHONE_TAKEN))
    full_name = " ".join(full_name.split())
    if not 2 <= len(full_name) <= 120:
        errors.append(FieldError("full_name", N_("Type the person's name (2 to 120 characters).")))
    if errors:
        raise ValidationFailed(errors)
    assert zone is not None
    await session.execute(
        update(ManagerInvitation)
        .where(col(ManagerInvitation.phone) == e164, *_open_invitation(now))
        .values(withdrawn_at=now)
    )
    raw, token_hash = _new_token()
    invitation = ManagerInvitation(
        zone_id=zone.id,
        phone=e164,
        full_name=full_name,
        token_hash=token_hash,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    await session.flush()
    await record(session, actor, "manager.invite", invitation, zone.id, after={"phone": e164, "zone": zone.code})
    return raw, invitation


async def withdraw_invitation(
    *, session: AsyncSession, actor: User, invitation_id: int, now: datetime
) -> ManagerInvitation:
    """The link of an open invitation stops working."""
    _ensure_admin(actor)
    invitation = await session.get(ManagerInvitation, invitation_id)
    if invitation is None or invitation.accepted_at is not None or invitation.withdrawn_at is not None:
        raise NotFound(MSG_INVITATION_NOT_FOUND)
    invitation.withdrawn_at = now
    session.add(invitation)
    await record(session, actor, "manager.invitation_withdraw", invitation, invitation.zone_id)
    return invitation


async def open_invitation(*, session: AsyncSession, raw_token: str, now: datetime) -> tuple[ManagerInvitation, Zone]:
    """The invitation a link carries, with its zone, while it is open (NotFound otherwise)."""
    row = (
        await session.execute(
            select(ManagerInvitation, Zone)
            .join(Zone, col(Zone.id) == col(ManagerInvitation.zone_id))
            .where(col(ManagerInvitation.token_hash) == hash_token(raw_token), *_open_invitation(now))
        )
    ).first()
    if row is None:
        raise NotFound(MSG_INVITATION_DEAD)
    return row[0], row[1]


async def accept_invitation(
    *, session: AsyncSession, raw_token: str, password: str, password_hash_profile: str, now: datetime
) -> User:
    """The invited person chooses a password: their manager account of the invitation's zone is created, its
    number still to be proven with the code the caller sends to it (as at sign-up). The link works once."""
    invitation, zone = await open_invitation(session=session, raw_token=raw_token, now=now)
    taken = await session.execute(
        update(ManagerInvitation)
        .where(col(ManagerInvitation.id) == invitation.id, *_open_invitation(now))
        .values(accepted_at=now)
    )
    if matched_rows(taken) != 1:  # accepted by a request at the same moment
        raise NotFound(MSG_INVITATION_DEAD)
    user = await create_user(
        session=session,
        role=Role.MANAGER,
        phone=invitation.phone,
        full_name=invitation.full_name,
        password=password,
        password_hash_profile=password_hash_profile,
        zone_id=zone.id,
    )
    await session.execute(
        update(ManagerInvitation).where(col(ManagerInvitation.id) == invitation.id).values(accepted_by_id=user.id)
    )
    return user


async def _manager(*, session: AsyncSession, manager_id: int) -> User:
    user = await session.get(User, manager_id)
    if user is None or user.role != Role.MANAGER:
        raise NotFound(MSG_MANAGER_NOT_FOUND)
    return user


async def move_manager(*, session: AsyncSession, actor: User, manager_id: int, zone_id: int) -> User:
    """A manager looks after another zone from their next request on."""
    _ensure_admin(actor)
    manager = await _manager(session=session, manager_id=manager_id)
    zone = await session.get(Zone, zone_id)
    if zone is None:
        raise ValidationFailed.single("zone_id", MSG_ZONE_CHOICE)
    if manager.zone_id == zone.id:
        return manager
    old_zone = await session.get(Zone, manager.zone_id) if manager.zone_id is not None else None
    manager.zone_id = zone.id
    session.add(manager)
    await session.flush()
    await record(
        session,
        actor,
        "manager.move",
        manager,
        zone.id,
        before={"zone": old_zone.code if old_zone else None},
        after={"zone": zone.code},
    )
    return manager


async def remove_manager(*, session: AsyncSession, actor: User, manager_id: int, reason: str, now: datetime) -> User:
    """A manager stops managing: the account is deactivated, logged out everywhere and its API tokens revoked."""
    _ensure_admin(actor)
    manager = await _manager(session=session, manager_id=manager_id)
    return await _deactivate(
        session=session, actor=actor, user=manager, action="manager.remove", reason=reason, now=now
    )


# --- accounts ---------------------------------------------------------------------------------------------


async def find_users_by_phone(*, session: AsyncSession, actor: User, phone: str) -> list[User]:
    """Accounts whose number is the one typed (0812..., 62812..., +62 812-...), or contains the digits typed when
    they are only part of a number (at least 4); at most 20, by number."""
    _ensure_admin(actor)
    try:
        condition = col(User.phone) == normalize_phone(phone)
    except InvalidPhoneNumber:
        digits = "".join(character for character in phone if character.isascii() and character.isdigit())
        if len(digits) < 4:
            raise ValidationFailed.single("phone", MSG_SEARCH_PHONE) from None
        national = "62" + digits[1:] if digits.startswith("0") else digits
        condition = or_(col(User.phone).contains(national), col(User.phone).contains(digits))
    query = select(User).where(condition).order_by(col(User.phone)).limit(FOUND_USERS_LIMIT)
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class AccountDetail:
    user: User
    zone: Zone | None
    open_sessions: int


async def account_detail(*, session: AsyncSession, actor: User, user_id: int, now: datetime) -> AccountDetail:
    """One account with its zone and how many browsers are logged in to it at `now` (two queries)."""
    _ensure_admin(actor)
    row = (
        await session.execute(
            select(User, Zone).outerjoin(Zone, col(Zone.id) == col(User.zone_id)).where(col(User.id) == user_id)
        )
    ).first()
    if row is None:
        raise NotFound(MSG_USER_NOT_FOUND)
    sessions = await session.execute(
        select(func.count()).where(col(AuthSession.user_id) == user_id, col(AuthSession.expires_at) > now)
    )
    return AccountDetail(user=row[0], zone=row[1], open_sessions=sessions.scalar_one())


async def _account(*, session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(MSG_USER_NOT_FOUND)
    return user


async def _deactivate(
    *, session: AsyncSession, actor: User, user: User, action: str, reason: str, now: datetime
) -> User:
    if user.id == actor.id:
        raise Forbidden(MSG_NOT_YOURSELF)
    if user.is_active:
        user.is_active = False
        session.add(user)
        await end_sessions_and_tokens(session=session, user_id=user.id, now=now)
        await session.flush()
        await record(
            session,
            actor,
            action,
            user,
            user.zone_id,
            reason=reason,
            before={"is_active": True},
            after={"is_active": False},
        )
    return user


async def deactivate_user(*, session: AsyncSession, actor: User, user_id: int, reason: str, now: datetime) -> User:
    """The account can no longer log in: every browser it is logged in on is logged out and its API tokens are
    revoked at once. Its orders, listings and history stay."""
    _ensure_admin(actor)
    user = await _account(session=session, user_id=user_id)
    return await _deactivate(session=session, actor=actor, user=user, action="user.deactivate", reason=reason, now=now)


async def reactivate_user(*, session: AsyncSession, actor: User, user_id: int, reason: str) -> User:
    """The account may log in again (with its password; its old sessions and tokens stay ended)."""
    _ensure_admin(actor)
    user = await _account(session=session, user_id=user_id)
    if not user.is_active:
        user.is_active = True
        session.add(user)
        await session.flush()
        await record(
            session,
            actor,
            "user.reactivate",
            user,
            user.zone_id,
            reason=reason,
            before={"is_active": False},
            after={"is_active": True},
        )
    return user


async def create_password_reset_link(
    *, session: AsyncSession, actor: User, user_id: int, now: datetime
) -> tuple[str, PasswordResetLink]:
    """A one-time link for the account's owner to choose a new password, valid for 24 hours: returns its token
    (shown once, for the admin to send to the owner) and the link. Earlier links of the account stop working."""
    _ensure_admin(actor)
    user = await _account(session=session, user_id=user_id)
    if not user.is_active:
        raise ValidationFailed([FieldError("_form", MSG_INACTIVE)], message=MSG_INACTIVE)
    await session.execute(
        update(PasswordResetLink)
        .where(col(PasswordResetLink.user_id) == user.id, col(PasswordResetLink.used_at).is_(None))
        .values(expires_at=now)
    )
    raw, token_hash = _new_token()
    link = PasswordResetLink(
        user_id=user.id,
        token_hash=token_hash,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + RESET_LINK_LIFETIME,
    )
    session.add(link)
    await session.flush()
    await record(session, actor, "user.password_reset_link", user, user.zone_id)
    return raw, link


def _usable_link(raw_token: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(PasswordResetLink.token_hash) == hash_token(raw_token),
        col(PasswordResetLink.used_at).is_(None),
        col(PasswordResetLink.expires_at) > now,
    )


async def reset_link_owner(*, session: AsyncSession, raw_token: str, now: datetime) -> User:
    """The active account a password link is for, while the link is unused and unexpired (NotFound otherwise)."""
    owner = (
        await session.execute(
            select(User)
            .join(PasswordResetLink, col(PasswordResetLink.user_id) == col(User.id))
            .where(*_usable_link(raw_token, now), col(User.is_active).is_(True))
        )
    ).scalar_one_or_none()
    if owner is None:
        raise NotFound(MSG_RESET_LINK_DEAD)
    return owner


async def reset_password_with_link(
    *, session: AsyncSession, raw_token: str, new_password: str, password_hash_profile: str, now: datetime
) -> User:
    """Set the password the owner chose through the link, used up by this: it works once, and not after 24
    hours. Every session of the account ends and its API tokens are revoked (whoever had the old password)."""
    user = await reset_link_owner(session=session, raw_token=raw_token, now=now)
    errors = check_password_rules(new_password)
    if errors:
        raise ValidationFailed(errors)
    used = await session.execute(update(PasswordResetLink).where(*_usable_link(raw_token, now)).values(used_at=now))
    if matched_rows(used) != 1:  # used by a request at the same moment
        raise NotFound(MSG_RESET_LINK_DEAD)
    user.password_hash = await hash_password(new_password, profile=password_hash_profile)
    user.password_changed_at = now
    session.add(user)
    await end_sessions_and_tokens(session=session, user_id=user.id, now=now)
    await session.flush()
    return user


# --- the platform's bank account ------------------------------------------------------------------------------


async def platform_bank(*, session: AsyncSession, configured: PlatformBank | None) -> PlatformBank | None:
    """The account buyers transfer to and invoices name: the one an admin stored, else the configured one."""
    stored = (await session.execute(select(PlatformBankAccount).limit(1))).scalar_one_or_none()
    if stored is None:
        return configured
    return PlatformBank(stored.bank_name, stored.account_number, stored.account_holder)


async def bank_transfers_offered(*, session: AsyncSession, configured: PlatformBank | None) -> bool:
    """Whether buyers may pay by bank transfer: once an account is configured or stored. Asked of the database only
    when none is configured, so a server with PLATFORM_BANK_* set spends no query on it."""
    if configured is not None:
        return True
    return (await session.execute(select(col(PlatformBankAccount.id)).limit(1))).first() is not None


async def stored_platform_bank(*, session: AsyncSession, actor: User) -> PlatformBankAccount | None:
    _ensure_admin(actor)
    return (await session.execute(select(PlatformBankAccount).limit(1))).scalar_one_or_none()


async def save_platform_bank(
    *, session: AsyncSession, actor: User, data: PayoutAccountInput, now: datetime
) -> PlatformBankAccount:
    """Store the platform's bank account; from now on buyers are told to transfer to it and invoices name it."""
    account = await stored_platform_bank(session=session, actor=actor)
    before = None
    if account is None:
        account = PlatformBankAccount(
            bank_name=data.bank_name,
            account_number=data.account_number,
            account_holder=data.account_holder,
            updated_at=now,
            updated_by_id=actor.id,
        )
    else:
        before = {
            "bank_name": account.bank_name,
            "account_number": account.account_number,
            "account_holder": account.account_holder,
        }
        account.bank_name, account.account_number = data.bank_name, data.account_number
        account.account_holder, account.updated_at, account.updated_by_id = data.account_holder, now, actor.id
    session.add(account)
    await session.flush()
    after = {"bank_name": data.bank_name, "account_number": data.account_number, "account_holder": data.account_holder}
    if after != before:
        await record(session, actor, "platform.bank_account", account, None, before=before, after=after)
    return account
