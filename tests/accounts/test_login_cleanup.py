"""Expired sessions and old login attempts are deleted every hour; what still matters is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from backend.accounts.models import AuthSession, LoginAttempt, Role
from backend.accounts.service import (
    LoginPolicy,
    authenticate,
    delete_expired_login_records,
    hash_token,
)
from backend.errors import TooManyAttempts, ValidationFailed
from backend.jobs import delete_expired_login_records_once
from tests.app_process import run_in_process
from tests.conftest import PASSWORD, log_in

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
WINDOW = 15 * 60


def a_session(user_id: int, name: str, expires_at: datetime) -> AuthSession:
    return AuthSession(
        token_hash=hash_token(name), user_id=user_id, created_at=expires_at - timedelta(days=14), expires_at=expires_at
    )


def an_attempt(phone: str, attempted_at: datetime, *, succeeded: bool = False) -> LoginAttempt:
    return LoginAttempt(phone=phone, ip_address="10.0.0.1", succeeded=succeeded, attempted_at=attempted_at)


async def test_expired_sessions_and_attempts_before_the_window_are_deleted_the_rest_kept(world, zone, database):
    worker = await world.user(Role.WORKER, zone=zone)
    async with database.sessionmaker() as session:
        session.add_all(
            [
                a_session(worker.id, "expired yesterday", NOW - timedelta(days=1)),
                a_session(worker.id, "expired just now", NOW),
                a_session(worker.id, "still open", NOW + timedelta(seconds=1)),
                an_attempt(worker.phone, NOW - timedelta(seconds=WINDOW + 1)),
                an_attempt(worker.phone, NOW - timedelta(days=30), succeeded=True),
                an_attempt(worker.phone, NOW - timedelta(seconds=WINDOW - 1)),
            ]
        )
        await session.commit()

    async with database.sessionmaker() as session:
        deleted = await delete_expired_login_records(session=session, now=NOW, login_window_seconds=WINDOW)
        await session.commit()

    assert (deleted.sessions, deleted.login_attempts) == (2, 2)
    async with database.sessionmaker() as session:
        sessions = set((await session.execute(select(col(AuthSession.token_hash)))).scalars())
        attempts = list((await session.execute(select(col(LoginAttempt.attempted_at)))).scalars())
    assert sessions == {hash_token("still open")}
    assert len(attempts) == 1


async def test_a_second_run_finds_nothing_left_to_delete(world, zone, database):
    worker = await world.user(Role.WORKER, zone=zone)
    async with database.sessionmaker() as session:
        session.add_all(
            [
                a_session(worker.id, "expired", NOW - timedelta(hours=2)),
                an_attempt(worker.phone, NOW - timedelta(hours=2)),
            ]
        )
        await session.commit()

    for expected in ((1, 1), (0, 0)):
        async with database.sessionmaker() as session:
            deleted = await delete_expired_login_records(session=session, now=NOW, login_window_seconds=WINDOW)
            await session.commit()
        assert (deleted.sessions, deleted.login_attempts) == expected


async def test_a_locked_account_stays_locked_after_the_clean_up_until_its_window_has_passed(world, zone, database):
    worker = await world.user(Role.WORKER, zone=zone)
    policy = LoginPolicy(
        failures_per_account_and_address=5,
        failures_per_ip=30,
        failures_per_account=100,
        window_seconds=WINDOW,
        password_hash_profile="fast",
    )

    async def log_in_at(moment: datetime, password: str) -> None:
        async with database.sessionmaker() as session:
            try:
                await authenticate(
                    session=session,
                    phone=worker.phone,
                    password=password,
                    ip_address="10.0.0.1",
                    policy=policy,
                    now=moment,
                )
            finally:
                await session.commit()

    async def clean_up_at(moment: datetime) -> None:
        async with database.sessionmaker() as session:
            await delete_expired_login_records(session=session, now=moment, login_window_seconds=WINDOW)
            await session.commit()

    await log_in_at(NOW - timedelta(days=2), PASSWORD)  # an old success, deleted by the clean-up below
    for minute in range(5):
        with pytest.raises(ValidationFailed):
            await log_in_at(NOW + timedelta(minutes=minute), f"salah-{minute}")

    await clean_up_at(NOW + timedelta(minutes=10))
    with pytest.raises(TooManyAttempts):
        await log_in_at(NOW + timedelta(minutes=10), PASSWORD)

    later = NOW + timedelta(seconds=WINDOW + 5 * 60)
    await clean_up_at(later)
    await log_in_at(later, PASSWORD)


async def test_the_hourly_job_ends_expired_logins_and_leaves_open_ones_alone(
    client, other_client, worker, settings, database
):
    await log_in(client, worker)
    await log_in(other_client, worker)
    async with database.sessionmaker() as session:
        await session.execute(
            update(AuthSession)
            .where(col(AuthSession.token_hash) == hash_token(other_client.cookies["pk_session"]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()

    deleted = await delete_expired_login_records_once(database, settings, now=datetime.now(UTC))

    assert deleted.sessions == 1
    assert (await client.get("/worker", follow_redirects=False)).status_code == 200
    assert (await other_client.get("/worker", follow_redirects=False)).headers["location"].startswith("/login")


def test_operators_run_the_clean_up_from_the_command_line(tmp_path, monkeypatch, capsys):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "MEDIA_DIR": str(tmp_path / "media")}
    outputs = [run_in_process(monkeypatch, capsys, *command, **env) for command in (["migrate"], ["run-login-cleanup"])]
    assert "login clean-up: 0 expired sessions and 0 old login attempts deleted" in outputs[-1]
