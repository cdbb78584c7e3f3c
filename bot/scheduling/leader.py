"""Who runs the scheduled work: the holder of a PostgreSQL advisory lock, or the only process on SQLite.

The lock lives on a connection of its own, kept open while this process leads; if the process dies or the
connection drops, PostgreSQL releases the lock and another process takes it at its next refresh (every 2 s, see
`Scheduler`). A killed process's socket closes at once; for a host that vanishes without closing it, the lock's
connection asks the server for TCP keepalives, so the server notices within about half a minute.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# One lock per database and schema, so several test schemas (or bots) on one server do not contend.
_KEY = "hashtextextended(current_database() || ':' || current_schema() || ':' || :name, 0)"
_TRY_LOCK = text(f"SELECT pg_try_advisory_lock({_KEY})")
# The holder's connection carries its process's description as its application name (cut to 63 bytes).
_NAME_CONNECTION = text("SELECT set_config('application_name', :label, false)")
# pg_locks shows a bigint advisory key as its high and low 32 bits.
_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    f"AND l.classid = (({_KEY} >> 32) & 4294967295)::oid AND l.objid = ({_KEY} & 4294967295)::oid"
)
# Seconds of silence before the server probes the lock's connection, between probes, and probes before it gives up.
_KEEPALIVES = (
    "SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false), "
    "set_config('tcp_keepalives_count', '3', false)"
)


class Leadership(Protocol):
    """Whether this process is the one that runs scheduled work."""

    label: str
    """This process as `holder` names it when it leads."""

    @property
    def is_leader(self) -> bool:
        """The answer as of the last refresh."""
        ...

    async def refresh(self) -> bool:
        """Take or keep the lease; returns `is_leader`."""
        ...

    async def holder(self) -> str | None:
        """The leading process's description (its `label`), or None while no process leads."""
        ...

    async def release(self) -> None:
        """Give the lease up (on shutdown)."""
        ...


class SoleLeader:
    """SQLite: one process owns the database, so it always leads."""

    is_leader = True

    def __init__(self, label: str = "this process") -> None:
        self.label = label

    async def refresh(self) -> bool:
        """Always the leader."""
        return True

    async def holder(self) -> str | None:
        """This process."""
        return self.label

    async def release(self) -> None:
        """Nothing to release."""


class AdvisoryLockLeader:
    """PostgreSQL: the lease is a session advisory lock held on a dedicated connection."""

    def __init__(self, engine: AsyncEngine, name: str = "scheduler", label: str = "a bot process") -> None:
        self._engine = engine
        self._name = name
        self.label = label
        """This process as others see it when it leads (`holder`)."""
        self._connection: AsyncConnection | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this process holds the lock (as of the last refresh)."""
        return self._connection is not None

    async def refresh(self) -> bool:
        """Check the held connection is alive, or try to take the lock."""
        try:
            if self._connection is not None:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            connection = await self._engine.connect()
            try:
                taken = bool(await connection.scalar(_TRY_LOCK, {"name": self._name}))
                await connection.commit()
            except BaseException:
                await connection.close()
                raise
            if taken:
                await connection.execute(text(_KEEPALIVES))
                await connection.execute(_NAME_CONNECTION, {"label": self.label})
                await connection.commit()
                self._connection = connection
            else:
                await connection.close()
        except (SQLAlchemyError, OSError) as error:
            log.warning("scheduler lease check failed: %s", error)
            await self._drop()
        return self.is_leader

    async def holder(self) -> str | None:
        """Read from the server who holds the lock."""
        if self._connection is not None:
            return self.label
        async with self._engine.connect() as connection:
            holder: str | None = await connection.scalar(_HOLDER, {"name": self._name})
        return holder

    async def release(self) -> None:
        """Close the lock's connection, which releases the lock."""
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.invalidate()
            except (SQLAlchemyError, OSError):
                log.debug("the lease connection was already gone")
            await connection.close()


def leadership_for(engine: AsyncEngine) -> AdvisoryLockLeader | SoleLeader:
    """The lease that fits the database."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeader(engine)
    return SoleLeader()
