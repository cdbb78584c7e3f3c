"""Chapter calendars a guild follows: polled like blog feeds, parsed off the event loop, events kept in step.

A calendar's first read imports its events without announcing them (as a feed's first fetch only learns);
later reads announce what is new. Fetching uses the feeds' fetcher: conditional GET, a size cap, a timeout,
no private addresses. A failing calendar backs off like a failing feed and is disabled after many failures.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import UserError
from bot.feeds import diff
from bot.feeds.fetch import Fetcher, check_url
from bot.i18n import N_
from bot.summits.calendar import WINDOW, CalendarEvent, parse_calendar
from bot.summits.service import CalendarChanges, CalendarSource, EventService
from db.models import Calendar

log = logging.getLogger(__name__)

POLL_JOB = "calendars-poll"
POLL_SECONDS = 60.0
"""How often the leader looks for calendars that are due (each is read every diff.POLL_INTERVAL or later)."""
MAX_PER_GUILD = 20


@dataclass(frozen=True, slots=True)
class Followed:
    """A calendar a guild follows, and how reading it goes."""

    id: int
    url: str
    chapter_key: str | None
    failures: int
    error: str | None
    disabled: bool
    last_success_at: datetime | None


class CalendarService:
    """Subscribes guilds to calendars and reads the ones that are due."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, fetcher: Fetcher, events: EventService
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._fetcher = fetcher
        self._events = events
        self._reading: set[int] = set()

    async def subscribe(
        self, guild_id: int, url: str, chapter_key: str | None, by: int
    ) -> tuple[Followed, CalendarChanges]:
        """Follow a calendar: it is read once now, and nothing is stored when it cannot be read."""
        url = check_url(url)
        async with self._sessions() as session:
            rows = list(await session.scalars(select(Calendar).where(Calendar.guild_id == guild_id)))
        if any(row.url == url for row in rows):
            raise UserError(N_("This server already follows that calendar."))
        if len(rows) >= MAX_PER_GUILD:
            raise UserError(N_("A server follows at most {limit} calendars."), limit=MAX_PER_GUILD)
        fetched = await self._fetcher.fetch(url)
        found = await self._parse(fetched.body)
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = Calendar(
                guild_id=guild_id,
                url=url,
                chapter_key=chapter_key,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                learned=True,
                failures=0,
                next_poll_at=diff.next_poll(now, 0),
                last_success_at=now,
                created_by=by,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            changes = await self._events.apply_calendar(
                session, _source(row), found, window_end=now + WINDOW, announce=False
            )
            followed = _followed(row)
        await self._events.load()
        return followed, changes

    async def unsubscribe(self, guild_id: int, calendar_id: int) -> Followed:
        """Stop following; the events already read stay (organisers may cancel them)."""
        async with self._sessions.begin() as session:
            row = await session.get(Calendar, calendar_id)
            if row is None or row.guild_id != guild_id:
                raise UserError(N_("This server follows no calendar number {number}."), number=calendar_id)
            followed = _followed(row)
            await session.delete(row)
        return followed

    async def followed(self, guild_id: int) -> list[Followed]:
        """The guild's calendars, oldest first."""
        async with self._sessions() as session:
            rows = await session.scalars(select(Calendar).where(Calendar.guild_id == guild_id).order_by(Calendar.id))
            return [_followed(row) for row in rows]

    async def poll_due(self) -> int:
        """Read every enabled calendar that is due, one after another; returns how many were read."""
        now = self._clock.now()
        async with self._sessions() as session:
            due = list(
                await session.scalars(
                    select(Calendar.id)
                    .where(Calendar.disabled_at.is_(None), Calendar.next_poll_at <= now)
                    .order_by(Calendar.next_poll_at)
                )
            )
        for calendar_id in due:
            try:
                await self.poll(calendar_id)
            except Exception:
                log.exception("reading calendar %s failed", calendar_id)
        return len(due)

    async def poll(self, calendar_id: int) -> CalendarChanges | None:
        """Read one calendar now: what changed, or None when it failed (its health recorded)."""
        if calendar_id in self._reading:
            return CalendarChanges()
        self._reading.add(calendar_id)
        try:
            return await self._poll(calendar_id)
        finally:
            self._reading.discard(calendar_id)

    async def _poll(self, calendar_id: int) -> CalendarChanges | None:
        async with self._sessions() as session:
            row = await session.get(Calendar, calendar_id)
            if row is None:
                return CalendarChanges()
            url, etag, last_modified = row.url, row.etag, row.last_modified
        try:
            fetched = await self._fetcher.fetch(url, etag=etag, last_modified=last_modified)
            found = None if fetched.not_modified else await self._parse(fetched.body)
        except Exception as error:
            await self._failed(calendar_id, error)
            return None
        now = self._clock.now()
        changes = CalendarChanges()
        async with self._sessions.begin() as session:
            row = await session.get(Calendar, calendar_id)
            if row is None:
                return changes
            row.failures, row.error, row.last_success_at = 0, None, now
            row.next_poll_at = diff.next_poll(now, 0)
            if found is not None:
                row.etag, row.last_modified = fetched.etag, fetched.last_modified
                changes = await self._events.apply_calendar(
                    session, _source(row), found, window_end=now + WINDOW, announce=row.learned
                )
                row.learned = True
        if changes != CalendarChanges():
            await self._events.load()
        return changes

    async def _parse(self, body: bytes) -> list[CalendarEvent]:
        now = self._clock.now()
        return await asyncio.to_thread(parse_calendar, body, start=now, end=now + WINDOW)

    async def _failed(self, calendar_id: int, error: Exception) -> None:
        now = self._clock.now()
        reason = error.translated(None) if isinstance(error, UserError) else f"unexpected error: {error!r}"
        log.warning("calendar %s failed: %s", calendar_id, reason)
        async with self._sessions.begin() as session:
            row = await session.get(Calendar, calendar_id)
            if row is None:
                return
            health = diff.after_failure(row.failures)
            row.failures, row.error = health.failures, reason[:1000]
            row.next_poll_at = diff.next_poll(now, health.failures)
            if health.disable:
                row.disabled_at = now


def _source(row: Calendar) -> CalendarSource:
    return CalendarSource(row.id, row.guild_id, row.chapter_key)


def _followed(row: Calendar) -> Followed:
    return Followed(
        row.id, row.url, row.chapter_key, row.failures, row.error, row.disabled_at is not None, row.last_success_at
    )
