"""The one engine and session factory of the bot, and the lock that start-up work takes."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


class AnotherProcess(Exception):
    """Another bot process already serves this SQLite database."""


class DatabaseUnavailable(Exception):
    """The database cannot be opened, migrated or read: one line for the operator."""


def _folder_for(database: Path) -> None:
    """Make the SQLite file's folder; one that cannot be made (a file in the way, no permission) is unavailable."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnavailable(f"cannot create the folder {database.parent}: {error.strerror or error}") from error


@contextmanager
def sole_bot_process(url: str) -> Iterator[None]:
    """SQLite serves one bot process: hold an exclusive lock beside the file for this process's life.

    Raises AnotherProcess when another process holds it. The kernel releases the lock when the process ends,
    however it ends. PostgreSQL (and an in-memory SQLite database) need no such lock.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    _folder_for(Path(database))
    try:
        descriptor = os.open(f"{database}.bot.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise DatabaseUnavailable(f"cannot write beside it in {Path(database).parent}: {error.strerror}") from error
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherProcess(database) from None
        yield
    finally:
        os.close(descriptor)


class DatabaseGone(Exception):
    """The SQLite file the bot opened was deleted or replaced while it ran: nothing can be saved safely."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _guard_file(engine: AsyncEngine, path: Path) -> None:
    """Refuse every transaction once the database file is not the one first opened (deleted data folder).

    An open SQLite connection keeps writing to a deleted file, so without this a save would succeed and vanish.
    """
    opened: list[tuple[int, int] | None] = []

    def on_connect(_dbapi_connection: Any, _record: Any) -> None:
        if not opened:
            opened.append(_identity(path))

    def on_begin(_connection: Connection) -> None:
        if opened and opened[0] is not None and _identity(path) != opened[0]:
            raise DatabaseGone(f"the database file {path} was deleted or replaced while the bot was running")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)


def _connect_failure_is_a_database_error(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Open a driver connection; whatever stops it (refused, reset, "the database system is shutting down")
    raises the driver's OperationalError, which SQLAlchemy reports as its own OperationalError.

    Unconverted, asyncpg's bare OSError passes through SQLAlchemy unwrapped and its server refusals become a
    generic DBAPIError: neither would read as the database being unavailable.
    """
    dbapi = dialect.loaded_dbapi
    try:
        return dialect.connect(*cargs, **cparams)
    except (dbapi.OperationalError, dbapi.InterfaceError):
        raise
    except (OSError, TimeoutError, dbapi.Error) as error:
        raise dbapi.OperationalError(f"cannot connect to the database: {error}") from error


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be used now (down, unreachable, full, gone), not a bad query."""
    if isinstance(error, DatabaseGone | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def failure_reason(error: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy's own text adds the statement and a link)."""
    original = getattr(error, "orig", None) or error
    return str(original).splitlines()[0] if str(original) else type(original).__name__


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine: SQLite gets its folder, WAL mode, foreign keys and a guard on its file; PostgreSQL
    checks pooled connections before use and reports a failed connect as OperationalError."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).resolve()
            _folder_for(path)
            _guard_file(engine, path)
        return engine
    engine = create_async_engine(url, pool_pre_ping=True)
    event.listen(engine.sync_engine, "do_connect", _connect_failure_is_a_database_error)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def startup_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold one lock per database while a process migrates and seeds, so processes starting at once take turns.

    PostgreSQL: a session advisory lock. SQLite: an exclusive `flock` on a file beside the database.
    """
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"codeforall-bot startup").digest()[:8], "big", signed=True)
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                await autocommit.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
