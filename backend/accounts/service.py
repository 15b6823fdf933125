"""Account rules: sign-up, login with throttling, sessions, password change, API tokens.

Service functions take the session as a keyword and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from backend.access import ensure_access
from backend.accounts.models import (
    SELF_SERVICE_ROLES,
    ApiToken,
    AuthSession,
    LoginAttempt,
    Organisation,
    Role,
    User,
    Zone,
)
from backend.accounts.passwords import hash_password, verify_password
from backend.db import as_utc, matched_rows
from backend.errors import N_, FieldError, Forbidden, TooManyAttempts, ValidationFailed
from backend.location import location_errors
from backend.notifications.models import Notification
from backend.orders.models import CartLine, Order, OrderStatus
from backend.phone import InvalidPhoneNumber, normalize_phone
from backend.vendors.models import Vendor

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
API_TOKEN_PREFIX = "pk_"
MAX_ACTIVE_API_TOKENS = 20
API_TOKEN_USE_PRECISION = timedelta(minutes=5)

MSG_PHONE_INVALID = N_("Enter a mobile number such as 0812-3456-7890.")
MSG_PHONE_TAKEN = N_("This number already has an account. Log in instead.")
MSG_PASSWORD_SHORT = N_("The password needs at least %(min)s characters.")
MSG_PASSWORD_LONG = N_("The password can have at most %(max)s characters.")
MSG_WRONG_LOGIN = N_("The phone number or password is wrong.")
MSG_TOO_MANY_LOGINS = N_("Too many wrong passwords. Try again in %(minutes)s minutes.")
MSG_TOKEN_NAME = N_("Give the token a name (up to 80 characters).")


@dataclass(frozen=True)
class LoginPolicy:
    """Wrong passwords allowed within `window_seconds`: from one address for one account, from one address for
    any accounts, and for one account from everywhere (a high ceiling, so strangers cannot lock owners out)."""

    failures_per_account_and_address: int
    failures_per_ip: int
    failures_per_account: int
    window_seconds: int
    password_hash_profile: str


def hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def check_password_rules(password: str, field: str = "password") -> list[FieldError]:
    if len(password) < PASSWORD_MIN_LENGTH:
        return [FieldError(field, MSG_PASSWORD_SHORT, {"min": PASSWORD_MIN_LENGTH})]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [FieldError(field, MSG_PASSWORD_LONG, {"max": PASSWORD_MAX_LENGTH})]
    return []


async def list_zones(*, session: AsyncSession) -> list[Zone]:
    return list((await session.execute(select(Zone).order_by(col(Zone.name)))).scalars())


async def get_zone(*, session: AsyncSession, zone_id: int | None) -> Zone | None:
    """A person's zone (None for someone without one, such as an admin)."""
    return await session.get(Zone, zone_id) if zone_id is not None else None


async def zones_with_people(*, session: AsyncSession) -> list[tuple[Zone, int]]:
    """Every zone, by name, with its number of accounts."""
    rows = await session.execute(
        select(Zone, func.count(col(User.id)))
        .outerjoin(User, col(User.zone_id) == col(Zone.id))
        .group_by(col(Zone.id))
        .order_by(col(Zone.name))
    )
    return [(zone, people) for zone, people in rows.all()]


async def people_by_role(*, session: AsyncSession, zone_id: int | None) -> dict[str, int]:
    """How many accounts of each role a zone has."""
    rows = await session.execute(
        select(col(User.role), func.count(col(User.id))).where(col(User.zone_id) == zone_id).group_by(User.role)
    )
    return dict(rows.all())


async def canteen_team(*, session: AsyncSession, actor: User) -> tuple[Organisation | None, list[User]]:
    """The canteen of a member of its staff, and its people by name, in one query."""
    rows = (
        await session.execute(
            select(Organisation, User)
            .join(User, col(User.organisation_id) == col(Organisation.id))
            .where(col(Organisation.id) == actor.organisation_id)
            .order_by(User.full_name)
        )
    ).all()
    return (rows[0][0] if rows else None), [user for _, user in rows]


async def choose_language(*, session: AsyncSession, user: User, locale: str) -> None:
    """The language the account reads pages in, on any device that has not chosen one itself."""
    account = await session.merge(user)
    account.locale = locale


async def sign_up(
    *,
    session: AsyncSession,
    role: str,
    phone: str,
    full_name: str,
    password: str,
    zone_id: int | None,
    organisation_name: str = "",
    policy: LoginPolicy,
) -> User:
    """Create a vendor, worker or canteen account. A canteen sign-up also creates its organisation.

    The number is not proven yet (`phone_verified_at` is None): the caller sends a code to it
    (`verification.send_code`) and the account can do nothing else until the code is entered. A number that an
    unproven account holds is taken over; one that a proven account holds is refused."""
    errors: list[FieldError] = []
    if role not in SELF_SERVICE_ROLES:
        errors.append(FieldError("role", N_("Choose seller, canteen or worker.")))
    full_name = " ".join(full_name.split())
    if not 2 <= len(full_name) <= 120:
        errors.append(FieldError("full_name", N_("Enter your name (2 to 120 characters).")))
    e164 = ""
    try:
        e164 = normalize_phone(phone)
    except InvalidPhoneNumber:
        errors.append(FieldError("phone", MSG_PHONE_INVALID))
    errors += check_password_rules(password)
    zone = await session.get(Zone, zone_id) if zone_id else None
    if zone is None:
        errors.append(FieldError("zone_id", N_("Choose your industrial zone.")))
    organisation_name = " ".join(organisation_name.split())
    if role == Role.CANTEEN_STAFF and not 2 <= len(organisation_name) <= 160:
        errors.append(FieldError("organisation_name", N_("Enter the canteen or company name.")))
    holder = await _account_with_phone(session=session, phone=e164) if e164 else None
    if holder is not None and holder.phone_verified_at is not None:
        errors.append(FieldError("phone", MSG_PHONE_TAKEN))
    if errors:
        raise ValidationFailed(errors)
    assert zone is not None
    if holder is not None:
        # Nobody proved the number for that account, so it is nobody's yet: whoever receives the code sent for
        # this sign-up is its owner. Otherwise a stranger could sign up first and keep the owner out.
        await session.delete(holder)
        await session.flush()

    organisation_id = None
    if role == Role.CANTEEN_STAFF:
        organisation = Organisation(zone_id=zone.id, name=organisation_name)
        session.add(organisation)
        await session.flush()
        organisation_id = organisation.id
    user = User(
        phone=e164,
        full_name=full_name,
        password_hash=await hash_password(password, profile=policy.password_hash_profile),
        role=role,
        zone_id=zone.id,
        organisation_id=organisation_id,
    )
    session.add(user)
    await session.flush()
    return user


async def create_user(
    *,
    session: AsyncSession,
    role: Role,
    phone: str,
    full_name: str,
    password: str,
    password_hash_profile: str,
    zone_id: int | None = None,
    organisation_id: int | None = None,
    phone_verified_at: datetime | None = None,
) -> User:
    """Create any kind of account (operators' CLI, demo data, canteen colleagues). An operator who vouches for
    the number passes `phone_verified_at`; without it the owner must prove it with a code at first login."""
    errors: list[FieldError] = []
    try:
        e164 = normalize_phone(phone)
    except InvalidPhoneNumber:
        raise ValidationFailed.single("phone", MSG_PHONE_INVALID) from None
    errors += check_password_rules(password)
    if role == Role.MANAGER and zone_id is None:
        errors.append(FieldError("zone_id", N_("A manager must belong to a zone.")))
    if role == Role.CANTEEN_STAFF and organisation_id is None:
        errors.append(FieldError("organisation_id", N_("Canteen staff must belong to a canteen.")))
    if await _phone_taken(session=session, phone=e164):
        errors.append(FieldError("phone", MSG_PHONE_TAKEN))
    if errors:
        raise ValidationFailed(errors)
    user = User(
        phone=e164,
        full_name=" ".join(full_name.split()),
        password_hash=await hash_password(password, profile=password_hash_profile),
        role=role,
        zone_id=zone_id,
        organisation_id=organisation_id,
        phone_verified_at=phone_verified_at,
    )
    session.add(user)
    await session.flush()
    return user


async def _account_with_phone(*, session: AsyncSession, phone: str) -> User | None:
    return (await session.execute(select(User).where(col(User.phone) == phone))).scalar_one_or_none()


async def _phone_taken(*, session: AsyncSession, phone: str) -> bool:
    return (await session.execute(select(col(User.id)).where(col(User.phone) == phone))).first() is not None


async def authenticate(
    *,
    session: AsyncSession,
    phone: str,
    password: str,
    ip_address: str,
    policy: LoginPolicy,
    now: datetime,
) -> User:
    """Check a phone number and password, refusing guesses beyond the limits of `policy`.

    Failed attempts count within a sliding window: per account and address (since that address last logged in
    to the account), per address whatever the account, and per account from all addresses (a high ceiling).
    While a limit is reached even the right password is refused, so guessing cannot continue; but a stranger's
    wrong guesses from an address of their own do not stop the owner at theirs, and an owner who is throttled
    anyway logs in with a code sent to the phone (`verification.log_in_with_code`). Each attempt is recorded;
    the caller must commit even when this raises (`db.keep_when_refused`).
    """
    try:
        e164 = normalize_phone(phone)
    except InvalidPhoneNumber:
        e164 = phone.strip()[:32]
    since = now - timedelta(seconds=policy.window_seconds)

    await _refuse_when_throttled(
        session=session, phone=e164, ip_address=ip_address, since=since, policy=policy, now=now
    )

    user = (await session.execute(select(User).where(col(User.phone) == e164))).scalar_one_or_none()
    matched = await verify_password(
        user.password_hash if user else None, password, profile=policy.password_hash_profile
    )
    succeeded = matched and user is not None and user.is_active
    session.add(LoginAttempt(phone=e164, ip_address=ip_address, succeeded=succeeded, attempted_at=now))
    if not succeeded:
        await session.flush()
        raise ValidationFailed([FieldError("password", MSG_WRONG_LOGIN)], message=MSG_WRONG_LOGIN)
    assert user is not None
    user.last_login_at = now
    await session.flush()
    return user


async def _refuse_when_throttled(
    *, session: AsyncSession, phone: str, ip_address: str, since: datetime, policy: LoginPolicy, now: datetime
) -> None:
    failures = (col(LoginAttempt.succeeded).is_(False), col(LoginAttempt.attempted_at) > since)
    last_success_of_pair = (
        select(func.max(col(LoginAttempt.attempted_at)))
        .where(
            col(LoginAttempt.phone) == phone,
            col(LoginAttempt.ip_address) == ip_address,
            col(LoginAttempt.succeeded).is_(True),
        )
        .scalar_subquery()
    )
    pair = (
        col(LoginAttempt.phone) == phone,
        col(LoginAttempt.ip_address) == ip_address,
        col(LoginAttempt.attempted_at) > func.coalesce(last_success_of_pair, since),
    )
    limits = (
        (pair, policy.failures_per_account_and_address),
        ((col(LoginAttempt.ip_address) == ip_address,), policy.failures_per_ip),
        ((col(LoginAttempt.phone) == phone,), policy.failures_per_account),
    )
    for conditions, limit in limits:
        query = select(func.count(col(LoginAttempt.id)), func.min(col(LoginAttempt.attempted_at))).where(
            *failures, *conditions
        )
        count, oldest = (await session.execute(query)).one()
        if count >= limit:
            oldest = as_utc(oldest)  # not NULL: there are `count` attempts
            retry_after = max(1, int((oldest + timedelta(seconds=policy.window_seconds) - now).total_seconds()))
            raise TooManyAttempts(
                MSG_TOO_MANY_LOGINS,
                retry_after_seconds=retry_after,
                params={"minutes": max(1, -(-retry_after // 60))},
            )


async def start_session(
    *,
    session: AsyncSession,
    user: User,
    max_age_seconds: int,
    now: datetime,
    ip_address: str = "",
    user_agent: str = "",
) -> str:
    """Open a new browser session and return its token (for the cookie); a fresh id at every login."""
    raw = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            token_hash=hash_token(raw),
            user_id=user.id,
            expires_at=now + timedelta(seconds=max_age_seconds),
            ip_address=ip_address[:45],
            user_agent=user_agent[:200],
        )
    )
    await session.flush()
    return raw


async def end_session(*, session: AsyncSession, raw_token: str) -> None:
    await session.execute(delete(AuthSession).where(col(AuthSession.token_hash) == hash_token(raw_token)))


@dataclass(frozen=True)
class DeletedLoginRecords:
    sessions: int
    login_attempts: int


async def delete_expired_login_records(
    *, session: AsyncSession, now: datetime, login_window_seconds: int
) -> DeletedLoginRecords:
    """Delete the browser sessions that have expired by `now` and the login attempts older than the throttling
    window, so neither table grows without end.

    Neither can matter any more: an expired session is refused at its next request, and throttling only counts
    the attempts within the window (a successful login before the window start changes no count). Sessions
    that end early, at logout or a password change, are deleted there and then, so none waits here.
    """
    sessions = await session.execute(delete(AuthSession).where(col(AuthSession.expires_at) <= now))
    window_start = now - timedelta(seconds=login_window_seconds)
    attempts = await session.execute(delete(LoginAttempt).where(col(LoginAttempt.attempted_at) < window_start))
    return DeletedLoginRecords(sessions=matched_rows(sessions), login_attempts=matched_rows(attempts))


@dataclass(frozen=True)
class ShellCounts:
    """What the badges of every page show a logged-in person: unread notifications, orders waiting for a
    vendor's answer, lines in a buyer's cart. Zero where the role has no such thing."""

    unread_notifications: int = 0
    new_orders: int = 0
    cart_lines: int = 0


async def page_visitor(*, session: AsyncSession, raw_token: str, now: datetime) -> tuple[User, ShellCounts] | None:
    """The active owner of a browser session that has not expired at `now`, with the counts the page's badges
    show, in one query: a page's own query budget is not spent on its header."""
    user_id = col(User.id)
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    # The vendor row is reached through the user, so a non-vendor's count is simply zero.
    new_orders = (
        select(func.count())
        .select_from(Order)
        .join(Vendor, col(Vendor.id) == col(Order.vendor_id))
        .where(col(Vendor.user_id) == user_id, col(Order.status) == OrderStatus.PLACED)
        .correlate(User)
        .scalar_subquery()
    )
    cart_lines = (
        select(func.count())
        .select_from(CartLine)
        .where(col(CartLine.user_id) == user_id)
        .correlate(User)
        .scalar_subquery()
    )
    query = (
        select(User, unread, new_orders, cart_lines)
        .join(AuthSession, col(AuthSession.user_id) == user_id)
        .where(
            col(AuthSession.token_hash) == hash_token(raw_token),
            col(AuthSession.expires_at) > now,
            col(User.is_active).is_(True),
        )
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    user, unread_count, new_order_count, cart_count = row
    return user, ShellCounts(unread_count or 0, new_order_count or 0, cart_count or 0)


async def change_password(
    *,
    session: AsyncSession,
    user: User,
    current_password: str,
    new_password: str,
    password_hash_profile: str,
    now: datetime,
) -> int:
    """Replace the password, then end every session of the account and revoke all its API tokens: whoever knew
    the old password may have logged in or made a token with it. The caller opens a new session. `user` may
    come from another session (the login's). Returns how many tokens were revoked."""
    user = await session.merge(user)
    errors: list[FieldError] = []
    if not await verify_password(user.password_hash, current_password, profile=password_hash_profile):
        errors.append(FieldError("current_password", N_("The current password is wrong.")))
    errors += check_password_rules(new_password, field="new_password")
    if not errors and new_password == current_password:
        errors.append(FieldError("new_password", N_("Choose a password different from the current one.")))
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = await hash_password(new_password, profile=password_hash_profile)
    user.password_changed_at = now
    session.add(user)
    revoked = await end_sessions_and_tokens(session=session, user_id=user.id, now=now)
    await session.flush()
    return revoked


async def end_sessions_and_tokens(*, session: AsyncSession, user_id: int, now: datetime) -> int:
    """Log the account out of every browser and revoke its API tokens (revoked at `now`, so they stay listed as
    revoked); returns how many tokens were revoked."""
    await session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user_id))
    revoked = await session.execute(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return matched_rows(revoked)


async def create_api_token(*, session: AsyncSession, user: User, name: str) -> tuple[str, ApiToken]:
    """Create a personal API token; the raw value is returned once and never stored."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 80:
        raise ValidationFailed.single("name", MSG_TOKEN_NAME)
    active = await session.execute(
        select(func.count(col(ApiToken.id))).where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
    )
    if active.scalar_one() >= MAX_ACTIVE_API_TOKENS:
        raise ValidationFailed.single(
            "name", N_("You already have %(max)s active tokens. Revoke one first."), max=MAX_ACTIVE_API_TOKENS
        )
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), prefix=raw[:10])
    session.add(token)
    await session.flush()
    return raw, token


async def list_api_tokens(*, session: AsyncSession, user: User) -> list[ApiToken]:
    query = (
        select(ApiToken)
        .where(col(ApiToken.user_id) == user.id)
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list((await session.execute(query)).scalars())


async def get_api_token(*, session: AsyncSession, actor: User, token_id: int) -> ApiToken:
    """A token of the actor's own; another user's token is reported as not found."""
    token = await session.get(ApiToken, token_id)
    ensure_access(token, actor, N_("This API token does not exist."))
    assert token is not None
    return token


async def revoke_api_token(*, session: AsyncSession, actor: User, token_id: int, now: datetime) -> ApiToken:
    token = await get_api_token(session=session, actor=actor, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
        await session.flush()
    return token


async def user_for_api_token(*, session: AsyncSession, raw_token: str, now: datetime) -> User | None:
    """The active owner of a valid, unrevoked token; marks the token as used at `now`."""
    if not raw_token.startswith(API_TOKEN_PREFIX):
        return None
    query = (
        select(User, col(ApiToken.id), col(ApiToken.last_used_at))
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(
            col(ApiToken.token_hash) == hash_token(raw_token),
            col(ApiToken.revoked_at).is_(None),
            col(User.is_active).is_(True),
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    # Recording every request would add a write to each API call; a few minutes' precision is enough.
    if last_used_at is None or as_utc(last_used_at) < now - API_TOKEN_USE_PRECISION:
        await session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now))
    return user


async def set_factory_location(
    *, session: AsyncSession, actor: User, latitude: float | None, longitude: float | None
) -> Organisation:
    """A canteen's staff set where their factory is: the catalogue measures distances from there.
    Both coordinates, or neither (then the zone's centre is used)."""
    if actor.role != Role.CANTEEN_STAFF or actor.organisation_id is None:
        raise Forbidden()
    errors = location_errors(latitude, longitude)
    if errors:
        raise ValidationFailed(errors)
    organisation = await session.get(Organisation, actor.organisation_id)
    assert organisation is not None  # the foreign key guarantees it
    organisation.latitude, organisation.longitude = latitude, longitude
    session.add(organisation)
    await session.flush()
    return organisation


async def canteen_settings(*, session: AsyncSession, actor: User) -> Organisation:
    """The delivery settings of the actor's own canteen: only its staff read them, and only their own."""
    if actor.role != Role.CANTEEN_STAFF or actor.organisation_id is None:
        raise Forbidden()
    organisation = await session.get(Organisation, actor.organisation_id)
    assert organisation is not None  # the foreign key guarantees it
    return organisation


async def save_canteen_settings(
    *,
    session: AsyncSession,
    actor: User,
    delivery_address: str,
    receiving_contact: str,
    receiving_phone: str,
    delivery_notes: str,
) -> Organisation:
    """Where vendors bring the canteen's orders, who receives them and on which mobile number (stored in E.164),
    and the notes every checkout starts with. Orders already placed keep what was written on them."""
    organisation = await canteen_settings(session=session, actor=actor)
    phone = ""
    if receiving_phone.strip():
        try:
            phone = normalize_phone(receiving_phone)
        except InvalidPhoneNumber:
            raise ValidationFailed.single("receiving_phone", MSG_PHONE_INVALID) from None
    organisation.address = delivery_address.strip()
    organisation.receiving_contact = receiving_contact.strip()
    organisation.receiving_phone = phone
    organisation.delivery_notes = delivery_notes.strip()
    session.add(organisation)
    await session.flush()
    return organisation


async def organisation_staff_ids(*, session: AsyncSession, organisation_id: int) -> set[int]:
    """The active staff of a canteen: who follows the canteen's orders."""
    return (await staff_by_organisation(session=session, organisation_ids={organisation_id}))[organisation_id]


async def staff_by_organisation(*, session: AsyncSession, organisation_ids: set[int]) -> dict[int, set[int]]:
    """The active staff of several canteens, in one query (an organisation without any maps to an empty set)."""
    staff: dict[int, set[int]] = {organisation_id: set() for organisation_id in organisation_ids}
    if organisation_ids:
        rows = await session.execute(
            select(col(User.organisation_id), col(User.id)).where(
                col(User.organisation_id).in_(organisation_ids),
                col(User.role) == Role.CANTEEN_STAFF,
                col(User.is_active).is_(True),
            )
        )
        for organisation_id, user_id in rows:
            assert organisation_id is not None  # the query asks for these organisations
            staff[organisation_id].add(user_id)
    return staff
