"""How the bot is doing, read from the database and this process: for `/status` and the periodic log line."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.outbox import FAILED, PENDING, SENDING
from bot.scheduling.leader import Leadership
from db.models import Calendar, Delivery, Feed

STARTED = time.monotonic()


def bot_version() -> str:
    """The installed package's version."""
    try:
        return version("codeforall-bot")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class Health:
    """One look at the bot's state."""

    version: str
    started_at: datetime
    uptime_seconds: float
    leader: bool
    """Whether this process runs the scheduled work."""
    leader_name: str | None
    """The process that runs it (None for a moment after its leader died, until a standby takes over)."""
    database_ms: float
    backlog: int
    oldest_due: datetime | None
    failed_deliveries: int
    feeds: int
    feeds_failing: int
    feeds_disabled: int
    calendars_failing: int

    def log_line(self) -> str:
        """The state as one log line."""
        oldest = self.oldest_due.isoformat(timespec="seconds") if self.oldest_due else "none"
        role = "scheduler leader" if self.leader else f"standing by for {self.leader_name or 'no leader yet'}"
        return (
            f"status: version {self.version}, up {self.uptime_seconds:.0f} s, {role}, "
            f"database {self.database_ms:.1f} ms, "
            f"outbox {self.backlog} due (oldest {oldest}), {self.failed_deliveries} failed, "
            f"feeds {self.feeds} ({self.feeds_failing} failing, {self.feeds_disabled} stopped), "
            f"calendars failing {self.calendars_failing}"
        )


async def look(sessions: async_sessionmaker[AsyncSession], clock: Clock, leadership: Leadership) -> Health:
    """The bot's state now (a handful of indexed counts)."""
    now = clock.now()
    leader_name = await leadership.holder()
    async with sessions() as session:
        started = time.perf_counter()
        await session.execute(text("SELECT 1"))
        database_ms = (time.perf_counter() - started) * 1000
        waiting = Delivery.state.in_((PENDING, SENDING)) & (Delivery.next_attempt_at <= now)
        backlog, oldest = (
            await session.execute(select(func.count(), func.min(Delivery.next_attempt_at)).where(waiting))
        ).one()
        failed = await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == FAILED))
        feeds, failing, disabled = (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter((Feed.failures > 0) & Feed.disabled_at.is_(None)),
                    func.count().filter(Feed.disabled_at.is_not(None)),
                )
            )
        ).one()
        calendars = await session.scalar(select(func.count()).select_from(Calendar).where(Calendar.failures > 0))
    return Health(
        version=bot_version(),
        started_at=now - timedelta(seconds=time.monotonic() - STARTED),
        uptime_seconds=time.monotonic() - STARTED,
        leader=leadership.is_leader,
        leader_name=leader_name,
        database_ms=database_ms,
        backlog=int(backlog or 0),
        oldest_due=oldest,
        failed_deliveries=int(failed or 0),
        feeds=int(feeds or 0),
        feeds_failing=int(failing or 0),
        feeds_disabled=int(disabled or 0),
        calendars_failing=int(calendars or 0),
    )
