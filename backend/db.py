"""Engine, session dependency and the shared column helpers for every domain's tables."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, TypeAlias, cast, overload

from asyncpg import exceptions as asyncpg_errors
from litestar import Request
from litestar.di import NamedDependency
from litestar.types import Message, Scope
from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    FromClause,
    Integer,
    Result,
    Table,
    any_,
    bindparam,
    column,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.config import DEFAULT_DATABASE_CONNECT_TIMEOUT

# Named constraints let Alembic's batch mode alter them on SQLite and keep migrations reviewable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def id_field() -> Any:
    """The primary key the database gives a row. Typed `int`, not `int | None`: every row the code reads or
    refers to has one. Only a new object has none (None) until the session is flushed."""
    return Field(default=None, primary_key=True)


def created_at_field() -> Any:
    return Field(default_factory=utcnow, nullable=False)


class Database:
    """One engine and its session factory; created by the app at start-up, disposed at shutdown."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        connect_timeout: float = DEFAULT_DATABASE_CONNECT_TIMEOUT,
        pool_size: int = 10,
        max_overflow: int = 10,
    ) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("postgresql"):
            # Prepared statements are reused per connection; after five runs PostgreSQL may switch to a generic
            # plan that ignores the values (a search's bounding box), which made catalogue searches 100x slower.
            # Pre-ping drops connections a database restart or a network cut left dead, so the app recovers by
            # itself; the connect timeout bounds how long a request waits on a database that does not answer
            # (asyncpg's own default is a minute).
            kwargs.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}, "timeout": connect_timeout},
            )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _configure_sqlite_connection)
            event.listen(self.engine.sync_engine, "savepoint", _begin_before_first_savepoint)
        self.sessionmaker = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def dispose(self) -> None:
        await self.engine.dispose()

    def request_session(self, scope: Scope) -> AsyncSession:
        """The session of one request, ended by `end_request_transaction` when the answer goes out."""
        session = self.sessionmaker()
        scope["state"][_REQUEST_SESSION] = session
        return session


# How a handler asks for its request's session: a parameter named `db_session` of this type.
DbSession: TypeAlias = NamedDependency[AsyncSession]

_REQUEST_SESSION = "db_session"
_KEEP_WHEN_REFUSED = "db_keep_when_refused"
# Jobs to start once the session's transaction has committed (session.info), and how the app starts them.
_JOBS_AFTER_COMMIT = "jobs_after_commit"
WAKE_JOBS = "wake_jobs"


def run_after_commit(session: AsyncSession, job: str) -> None:
    """Ask for the background job `job` (a name of backend.jobs) to run as soon as this session's transaction
    commits, for work it just recorded (a push to send, a refund to make). Nothing is asked before the commit,
    so a job never looks for rows that are not there yet; and should the asking fail, the job's own schedule
    finds the rows all the same."""
    session.info.setdefault(_JOBS_AFTER_COMMIT, set()).add(job)


def jobs_after_commit(session: AsyncSession) -> set[str]:
    """The jobs asked for with `run_after_commit` since the last call (which forgets them)."""
    return set(session.info.pop(_JOBS_AFTER_COMMIT, ()))


def keep_when_refused(scope: Scope) -> None:
    """Commit this request's transaction even when it is answered with a refusal (4xx, or 503 when a service we
    call is down): for what the refusal itself must record, such as a failed login counting towards the throttle
    or the payment that keeps Stripe's answer for the next try. A crash (500) still rolls back."""
    scope["state"][_KEEP_WHEN_REFUSED] = True


def undone_if_refused(session: AsyncSession) -> AsyncSessionTransaction:
    """A savepoint around a service call whose refusal (a DomainError) a page handler catches to show the page
    again from the same session: the refusal takes back exactly what the call wrote (a checkout's orders and the
    cart it emptied), and the page shows things as they were. `async with undone_if_refused(db_session): ...`

    The request's transaction still ends in `end_request_transaction`: rolled back for a refusal answered 4xx,
    committed for one answered 200 (htmx swaps only 2xx answers), which is safe because of the savepoint."""
    return session.begin_nested()


async def end_request_transaction(message: Message, scope: Scope) -> None:
    """The one place a request's transaction ends (a before-send hook): committed when the answer is a success
    or a redirect (2xx, 3xx), rolled back otherwise, so a page that shows a refusal with a 4xx keeps nothing of
    the refused change (unless the handler asked to `keep_when_refused`). A commit that fails still turns the
    answer into an error."""
    if message["type"] != "http.response.start":
        return
    state = scope.get("state", {})
    session: AsyncSession | None = state.pop(_REQUEST_SESSION, None)
    keep_when_refused = state.pop(_KEEP_WHEN_REFUSED, False)
    if session is None:
        return
    try:
        if 200 <= message["status"] < 400 or (keep_when_refused and message["status"] != 500):
            await session.commit()
            jobs = jobs_after_commit(session)
            wake = scope["app"].state.get(WAKE_JOBS) if jobs else None
            if wake is not None:
                await wake(jobs)  # bounded and never raising: see JobQueue.wake
        else:
            await session.rollback()
    finally:
        await session.close()


async def close_unanswered_session(request: Request[Any, Any, Any]) -> None:
    """After the answer: a session no answer ended (the client went away first) is closed, which rolls back."""
    session: AsyncSession | None = request.scope.get("state", {}).pop(_REQUEST_SESSION, None)
    if session is not None:
        await session.close()


def database_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the database could not be reached (refused, reset, closed, timed out, restarting,
    no free connection in the pool) rather than that it refused a statement: the request may simply be tried
    again in a moment.

    SQLAlchemy wraps errors on a connection it had (and flags a lost one `connection_invalidated`), but a failed
    connect comes through as the driver raised it: an OSError or an asyncpg error. Those are recognised only when
    raised from inside the database layers, so a full disk under the media folder still counts as a bug.
    """
    if isinstance(exc, DBAPIError):
        # `orig` is the driver's error as SQLAlchemy's asyncpg adapter re-raised it, from asyncpg's own.
        return (
            exc.connection_invalidated
            or _unreachable_driver_error(exc.orig)
            or _unreachable_driver_error(exc.orig.__cause__ if exc.orig is not None else None)
        )
    if isinstance(exc, SQLAlchemyTimeoutError):  # every pooled connection busy for pool_timeout seconds
        return True
    return _unreachable_driver_error(exc) and raised_inside(exc, _DATABASE_MODULES)


def _unreachable_driver_error(exc: BaseException | None) -> bool:
    # Any socket error: refused, reset, timed out, a name that does not resolve, but also "no route to host",
    # "network is unreachable" and asyncio's "Multiple exceptions" for a host name with several addresses, which
    # are plain OSErrors. Then asyncpg's connection errors (SQLSTATE class 08, a connection that is gone) and a
    # server refusing connections for now: starting up, shutting down, crashed, full. A protocol violation
    # (08P01) is in class 08 too, but it is a malformed message from our side: a bug, not an outage.
    if isinstance(exc, asyncpg_errors.ProtocolViolationError):
        return False
    return isinstance(
        exc,
        OSError
        | asyncpg_errors.PostgresConnectionError
        | asyncpg_errors.CannotConnectNowError
        | asyncpg_errors.TooManyConnectionsError
        | asyncpg_errors.AdminShutdownError
        | asyncpg_errors.CrashShutdownError,
    )


_DATABASE_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def raised_inside(exc: BaseException, modules: tuple[str, ...]) -> bool:
    """True when `exc` passed through the code of one of `modules` (names or prefixes of module names)."""
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__", "").startswith(modules):
            return True
        traceback = traceback.tb_next
    return False


def is_postgres(session: AsyncSession) -> bool:
    """Some statements differ: row locks, SKIP LOCKED, the date functions of reports."""
    return session.get_bind().dialect.name == "postgresql"


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a SQLModel table class, which SQLModel's types do not declare as `__table__`."""
    return cast(Table, inspect(model).local_table)


def matched_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched. Its result is a CursorResult, which counts them; SQLAlchemy's
    types promise only a Result for any statement."""
    return cast(CursorResult[Any], result).rowcount


def upsert_insert(session: AsyncSession) -> Any:
    """The dialect's own `insert`, the one with `on_conflict_do_nothing` / `on_conflict_do_update`."""
    return postgresql_insert if is_postgres(session) else sqlite_insert


# Lists of ids and (id, quantity) pairs sent as one bound value. An IN list or a CASE with one WHEN per item has
# a text of its own for every length: SQLAlchemy compiles it anew for each (a CASE is part of its cache key) and
# PostgreSQL parses each text again, so a checkout of 7 lines paid for the compiling that one of 6 had done. These
# shapes are the same whatever the number of items: an integer array on PostgreSQL, a JSON text that json_each()
# reads on SQLite.


def in_ids(session: AsyncSession, column_: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """`column_ IN ids`, one statement text for any number of ids."""
    if is_postgres(session):
        return cast(ColumnElement[bool], column_ == any_(bindparam(None, list(ids), type_=ARRAY(Integer))))
    listed = func.json_each(json.dumps(list(ids))).table_valued("value")
    return cast(ColumnElement[bool], column_.in_(select(listed.c.value)))


def id_quantities(session: AsyncSession, quantities: Mapping[int, int]) -> FromClause:
    """A table of (id, quantity) rows, one per item of `quantities`, to join to: columns `id` and `quantity`."""
    if is_postgres(session):
        ids = bindparam(None, list(quantities), type_=ARRAY(Integer))
        amounts = bindparam(None, list(quantities.values()), type_=ARRAY(Integer))
        return (
            func.unnest(ids, amounts).table_valued(column("id", Integer), column("quantity", Integer)).render_derived()
        )
    pairs = func.json_each(json.dumps({str(key): value for key, value in quantities.items()})).table_valued(
        "key", "value"
    )
    return select(
        sql_cast(pairs.c.key, Integer).label("id"), sql_cast(pairs.c.value, Integer).label("quantity")
    ).subquery()


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # PostgreSQL has great_circle_km() as an SQL function (migration 0004); SQLite gets the same from Python.
    dbapi_connection.create_function("great_circle_km", 4, great_circle_km, deterministic=True)


def _begin_before_first_savepoint(connection: Connection, _name: str) -> None:
    # Python's sqlite3 opens a transaction only just before a write. A SAVEPOINT sent first would open it
    # instead, and releasing that savepoint would commit at once: the request's later rollback (a refusal, a
    # crash) could no longer undo what the savepoint kept. So the transaction is begun here first, as on
    # PostgreSQL, below SQLAlchemy (the driver's cursor), where nothing counts it as a statement of ours.
    adapted, driver = connection.connection.dbapi_connection, connection.connection.driver_connection
    assert adapted is not None and driver is not None, "a savepoint is only sent on a live connection"
    if not driver.in_transaction:
        adapted.cursor().execute("BEGIN")


EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None) -> float | None:
    """The haversine distance between two points in kilometres (None when a point is unknown)."""
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_chord = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half_chord)))


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
@overload
def as_utc(moment: datetime | None) -> datetime | None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns; everything we write is UTC."""
    from datetime import UTC

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
