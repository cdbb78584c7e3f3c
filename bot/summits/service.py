"""Events stored, listed from memory, and their posts planned in the outbox: new, reminders, cancellation, DMs.

Reminders are delivery rows with due times, planned in the same transaction as the change that calls for them.
A reminder's key carries the start it was planned for, so moving an event cancels the pending rows of the old
time and plans new ones, and a reminder already sent for the old time never blocks the new one.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Executable, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.outbox import CANCELLED as DELIVERY_CANCELLED
from bot.delivery.outbox import PENDING, Payload, enqueue
from bot.directory.service import SummitInfo
from bot.errors import UserError
from bot.i18n import N_
from bot.summits import render
from bot.summits.calendar import CalendarEvent, IcsEvent, render_calendar
from bot.summits.events import CANCELLED, NETWORK, PAST, SCHEDULED, EventDraft, EventInfo
from bot.summits.reminders import DEFAULT_OFFSETS, Offset, parse_offsets
from bot.text import searchable, storable
from db.models import Delivery, Event, EventFollower, GuildSettings
from db.repositories import bump_revision, read_revisions

log = logging.getLogger(__name__)

PLAN_JOB = "event-plan"
PLAN_SECONDS = 600.0  # a full look over every event's reminders; changes plan their own at once
REMINDER, DIRECT, NEW, CANCEL_NOTICE = "event-reminder", "event-direct", "event-new", "event-cancelled"
PLANNED = (REMINDER, DIRECT)
SUMMIT_LENGTH = timedelta(hours=8)
MAX_CHOICES = 25
TYPO_SCORE = 75
CHUNK = 500  # rows fetched at a time
FLUSH_EVERY = 200  # new rows written at a time
MAX_KEY_FILTERS = 50  # more events than this are picked from all planned rows rather than by key prefixes
GONE = N_("There is no event number {number} here.")


@dataclass(frozen=True, slots=True)
class CalendarSource:
    """A calendar a guild follows, as the events read from it need it."""

    id: int
    guild_id: int
    chapter_key: str | None


@dataclass(frozen=True, slots=True)
class CalendarChanges:
    """What one read of a calendar changed."""

    added: int = 0
    changed: int = 0
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """Where a guild wants event posts, in which language, and when reminders go out."""

    guild_id: int
    channel_id: int
    locale: str | None
    offsets: tuple[Offset, ...]


class EventService:
    """Adds, edits, cancels and lists events; plans their posts; keeps every event in memory for reading."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._events: dict[int, EventInfo] = {}
        self._by_start: list[tuple[datetime, int]] = []  # upcoming-capable events by start, for listing
        self._listeners: list[Callable[[int], None]] = []
        self.revision = -1

    def subscribe(self, listener: Callable[[int], None]) -> None:
        """Call `listener(guild_id)` after events of that guild changed (NETWORK: any guild's may have)."""
        self._listeners.append(listener)

    def _changed(self, guild_id: int) -> None:
        for listener in self._listeners:
            listener(guild_id)

    # -- reading, from memory ------------------------------------------------------------------------

    async def load(self) -> None:
        """Read every event (after start-up, and when another process changed them)."""
        events: dict[int, EventInfo] = {}
        async with self._sessions() as session:
            revision = (await read_revisions(session)).get("events", 0)
            async for row in _each(session, select(Event)):
                events[row.id] = _info(row)
        self._events = events
        self._by_start = sorted((e.starts_at, e.id) for e in self._events.values() if e.starts_at is not None)
        self.revision = revision

    async def refresh(self, revision: int) -> None:
        """Reload when the events' revision moved."""
        if revision != self.revision:
            await self.load()
            self._changed(NETWORK)

    async def _saved(self, event: EventInfo, revision: int) -> None:
        """Take one event this process just wrote into memory; reload when other writes came in between."""
        if revision != self.revision + 1:
            await self.load()
        else:
            old = self._events.get(event.id)
            if old is not None and old.starts_at is not None:
                self._by_start.remove((old.starts_at, old.id))
            self._events[event.id] = event
            if event.starts_at is not None:
                bisect.insort(self._by_start, (event.starts_at, event.id))
            self.revision = revision
        self._changed(event.guild_id)

    def get(self, guild_id: int, event_id: int) -> EventInfo:
        """An event this guild can see (its own or the network's), or a UserError."""
        event = self._events.get(event_id)
        if event is None or event.guild_id not in (guild_id, NETWORK):
            raise UserError(GONE, number=event_id)
        return event

    def now(self) -> datetime:
        """The time, by the one clock."""
        return self._clock.now()

    def is_cancelled(self, event_id: int) -> bool:
        """Whether the event was called off (False for one never known)."""
        event = self._events.get(event_id)
        return event is not None and event.status == CANCELLED

    def upcoming(self, guild_id: int, *, chapter_key: str | None = None) -> list[EventInfo]:
        """Events not yet over and not cancelled, soonest first."""
        now = self._clock.now()
        first = bisect.bisect_left(self._by_start, (now - timedelta(days=31), -1))
        found = (self._events[event_id] for _, event_id in self._by_start[first:])
        return [e for e in found if e.state(now) == SCHEDULED and _visible(e, guild_id, chapter_key)]

    def past(self, guild_id: int, *, chapter_key: str | None = None) -> list[EventInfo]:
        """Events that took place (or were cancelled), most recent first; year-only summits by year."""
        now = self._clock.now()
        done = [e for e in self._events.values() if e.state(now) != SCHEDULED and _visible(e, guild_id, chapter_key)]
        return sorted(done, key=lambda e: (e.starts_at.year if e.starts_at else e.year or 0, e.starts_at), reverse=True)

    def complete(self, guild_id: int, typed: str) -> list[EventInfo]:
        """Events whose name holds what was typed: upcoming first, then the most recent."""
        needle = searchable(typed).casefold()
        pool = self.upcoming(guild_id) + self.past(guild_id)
        found = [e for e in pool if needle in searchable(e.name).casefold()]
        if found or not needle:
            return found[:MAX_CHOICES]
        names = {index: searchable(e.name).casefold() for index, e in enumerate(pool)}
        close = process.extract(needle, names, scorer=fuzz.WRatio, score_cutoff=TYPO_SCORE, limit=MAX_CHOICES)
        return [pool[index] for _, _, index in close]

    def ics(self, events: Iterable[EventInfo], *, name: str) -> bytes:
        """These events (those with times) as one iCalendar file."""
        return render_calendar([_ics(e) for e in events if e.starts_at and e.ends_at], name=name)

    # -- organisers' changes ------------------------------------------------------------------------

    async def add(self, draft: EventDraft) -> EventInfo:
        """Save a new event, announce it and plan its reminders, in one transaction."""
        now = self._clock.now()
        if draft.starts_at <= now:
            raise UserError(N_("That start has passed while you were writing: choose a new one."))
        async with self._sessions.begin() as session:
            revision = await bump_revision(session, "events")
            row = Event(
                guild_id=draft.guild_id,
                origin="organiser:pending",
                name=draft.name,
                chapter_keys=[draft.chapter_key] if draft.chapter_key else [],
                starts_at=draft.starts_at,
                ends_at=draft.ends_at,
                timezone=draft.zone,
                location=draft.location,
                url=draft.url,
                description=draft.description,
                status=SCHEDULED,
                created_by=draft.author_id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            row.origin = f"organiser:{row.id}"
            event = _info(row)
            await self._announce(session, event, NEW)
            await self._plan(session, [event.id])
        await self._saved(event, revision)
        return event

    async def edit(self, draft: EventDraft) -> EventInfo:
        """Apply what changed since the form opened; refuses when someone else changed the event meanwhile."""
        assert draft.event_id is not None
        async with self._sessions.begin() as session:
            revision = await bump_revision(session, "events")
            row = await session.get(Event, draft.event_id, with_for_update=True)
            if row is None or row.guild_id != draft.guild_id or row.status == CANCELLED:
                raise UserError(GONE, number=draft.event_id)
            if row.version != draft.version:
                raise UserError(N_("Someone changed this event meanwhile: open it again to see the current version."))
            if draft.starts_at != row.starts_at and draft.starts_at <= self._clock.now():
                raise UserError(N_("An event cannot be moved into the past."))
            row.name, row.location, row.url, row.description = draft.name, draft.location, draft.url, draft.description
            row.starts_at, row.ends_at, row.timezone = draft.starts_at, draft.ends_at, draft.zone
            if draft.chapter_key is not None:
                row.chapter_keys = [draft.chapter_key]
            row.version += 1
            row.sequence += 1
            row.updated_at = self._clock.now()
            event = _info(row)
            await self._plan(session, [event.id])
        await self._saved(event, revision)
        return event

    async def cancel(self, guild_id: int, event_id: int) -> EventInfo:
        """Call an event off: its pending reminders are dropped and one notice goes out."""
        async with self._sessions.begin() as session:
            revision = await bump_revision(session, "events")
            row = await session.get(Event, event_id, with_for_update=True)
            now = self._clock.now()
            if row is None or row.guild_id != guild_id or row.status == CANCELLED:
                raise UserError(GONE, number=event_id)
            if _info(row).state(now) == PAST:
                raise UserError(N_("{name} is already over."), name=row.name)
            row.status = CANCELLED
            row.version += 1
            row.sequence += 1
            row.updated_at = now
            event = _info(row)
            await self._plan(session, [event.id])
            await self._announce(session, event, CANCEL_NOTICE)
        await self._saved(event, revision)
        return event

    # -- members' reminders ---------------------------------------------------------------------------

    async def follow(self, guild_id: int, event_id: int, user_id: int, dm_channel_id: int, locale: str | None) -> bool:
        """Remind this member by direct message before the event; False when they already asked."""
        event = self.get(guild_id, event_id)
        if event.state(self._clock.now()) != SCHEDULED:
            raise UserError(
                N_("{name} is not coming up any more, so there is nothing to remind you of."), name=event.name
            )
        async with self._sessions.begin() as session:
            if await session.get(EventFollower, (event_id, user_id)) is not None:
                return False
            follower = EventFollower(
                event_id=event_id,
                user_id=user_id,
                guild_id=guild_id,
                dm_channel_id=dm_channel_id,
                locale=locale,
                created_at=self._clock.now(),
            )
            session.add(follower)
            now = self._clock.now()
            (kind, key, channel_id), (guild, due, payload) = _direct(event, follower, now)
            if due > now:
                await enqueue(
                    session, kind=kind, key=key, guild_id=guild, channel_id=channel_id, payload=payload, due_at=due
                )
        return True

    async def unfollow(self, event_id: int, user_id: int) -> bool:
        """Stop reminding this member; False when they had not asked."""
        async with self._sessions.begin() as session:
            gone = await session.execute(
                delete(EventFollower).where(EventFollower.event_id == event_id, EventFollower.user_id == user_id)
            )
            await _cancel_direct(session, event_id, user_id)
        return bool(gone.rowcount)  # type: ignore[attr-defined]

    async def follows(self, event_id: int, user_id: int) -> bool:
        """Whether this member asked to be reminded of this event."""
        async with self._sessions() as session:
            return await session.get(EventFollower, (event_id, user_id)) is not None

    async def followed_by(self, user_id: int) -> list[tuple[int, EventInfo]]:
        """(guild, event) of every event this member asked to be reminded of, soonest first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(EventFollower.guild_id, EventFollower.event_id).where(EventFollower.user_id == user_id)
            )
            found = [(row.guild_id, self._events[row.event_id]) for row in rows if row.event_id in self._events]
        return sorted(found, key=lambda pair: (pair[1].starts_at is None, pair[1].starts_at, pair[1].id))

    async def forget_follower(self, user_id: int) -> int:
        """Forget every "Remind me" of this member, with the reminders still to come; how many there were."""
        async with self._sessions.begin() as session:
            event_ids = (
                await session.scalars(select(EventFollower.event_id).where(EventFollower.user_id == user_id))
            ).all()
            if event_ids:
                await session.execute(delete(EventFollower).where(EventFollower.user_id == user_id))
                for event_id in event_ids:
                    await _cancel_direct(session, event_id, user_id)
        return len(event_ids)

    # -- the directory's summits ------------------------------------------------------------------------

    async def sync_directory(self, summits: Iterable[SummitInfo]) -> None:
        """Keep the network's events in step with the directory's summits (past ones known by their year).

        Every process does this when the directory changed; when two insert the same summit at once, the one that
        loses finds it written by the other at its next refresh.
        """
        try:
            await self._sync_directory(list(summits))
        except IntegrityError:
            log.info("another process added the directory's summits to the events first")

    async def _sync_directory(self, summits: list[SummitInfo]) -> None:
        async with self._sessions.begin() as session:
            existing = {
                row.origin: row
                for row in await session.scalars(
                    select(Event).where(Event.guild_id == NETWORK, Event.origin.startswith("directory:"))
                )
            }
            changed = False
            for summit in summits:
                values = _summit_values(summit)
                row = existing.get(values["origin"])
                if row is None:
                    session.add(Event(guild_id=NETWORK, status=SCHEDULED, **values, updated_at=self._clock.now()))
                    changed = True
                elif any(getattr(row, name) != value for name, value in values.items()):
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.version += 1
                    changed = True
            if changed:
                await bump_revision(session, "events")
                await session.flush()
                await self._plan(session, None)
        await self.load()
        if changed:
            self._changed(NETWORK)

    # -- chapter calendars -------------------------------------------------------------------------------

    async def apply_calendar(
        self,
        session: AsyncSession,
        calendar: CalendarSource,
        found: Sequence[CalendarEvent],
        *,
        window_end: datetime,
        announce: bool,
    ) -> CalendarChanges:
        """Bring a calendar's events in step with what it now holds, in the caller's transaction.

        New events are announced once (unless `announce` is off, on a calendar's first read); changed ones are
        updated with their reminders; cancelled ones, and upcoming ones gone from the calendar, are called off.
        """
        now = self._clock.now()
        prefix = f"calendar:{calendar.id}:"
        mine = select(Event).where(Event.guild_id == calendar.guild_id, Event.origin.startswith(prefix))
        rows = {row.origin: row async for row in _each(session, mine)}
        added: list[Event] = []
        changed: list[Event] = []
        cancelled: list[Event] = []
        arriving: dict[str, list[CalendarEvent]] = defaultdict(list)
        seen: set[str] = set()
        for item in found:
            origin = prefix + item.uid
            seen.add(origin)
            row = rows.get(origin)
            if row is None:
                if not item.cancelled and item.ends_at > now:
                    arriving[series(item.uid)].append(item)
            elif item.cancelled and row.status != CANCELLED:
                _call_off(row, cancelled)
            elif not item.cancelled and _calendar_changed(row, item, calendar):
                _take(row, item, calendar, changed)
        leaving: dict[str, list[Event]] = defaultdict(list)
        for origin, row in rows.items():
            starts = row.starts_at
            if origin not in seen and row.status == SCHEDULED and starts is not None and now < starts <= window_end:
                leaving[series(origin[len(prefix) :])].append(row)
        for name in arriving.keys() | leaving.keys():
            # A series whose start moved has new occurrence ids: its occurrences moved rather than vanished.
            new = sorted(arriving.get(name, []), key=lambda item: item.starts_at)
            old = sorted(leaving.get(name, []), key=lambda row: row.starts_at or now)
            for item, row in zip(new, old, strict=False):
                row.origin = prefix + item.uid
                _take(row, item, calendar, changed)
            for item in new[len(old) :]:
                row = Event(guild_id=calendar.guild_id, origin=prefix + item.uid, status=SCHEDULED, created_at=now)
                for field_name, value in _from_calendar(item, calendar).items():
                    setattr(row, field_name, value)
                session.add(row)
                added.append(row)
                if len(added) % FLUSH_EVERY == 0:
                    await session.flush()  # a few hundred rows at a time keeps the event loop free
            for row in old[len(new) :]:
                _call_off(row, cancelled)
        if not (added or changed or cancelled):
            return CalendarChanges()
        await bump_revision(session, "events")
        await session.flush()
        for row in added if announce else []:
            await self._announce(session, _info(row), NEW)
        for row in cancelled:
            await self._announce(session, _info(row), CANCEL_NOTICE)
        await self._plan(session, [row.id for row in (*added, *changed, *cancelled)])
        self._changed(calendar.guild_id)
        return CalendarChanges(len(added), len(changed), len(cancelled))

    # -- planning ---------------------------------------------------------------------------------------

    async def plan(self, event_ids: Collection[int] | None = None) -> None:
        """Bring the planned reminders in step with events, followers and guild settings (None: all events)."""
        async with self._sessions.begin() as session:
            await self._plan(session, event_ids)

    async def _plan(self, session: AsyncSession, only: Collection[int] | None) -> None:
        now = self._clock.now()
        event_ids = set(only) if only is not None else None
        targets = await _targets(session)
        # Events that started lately still own their pending rows (the reminder at the start is due at it).
        query = select(Event).where(Event.status == SCHEDULED, Event.starts_at > now - timedelta(days=1))
        followers = select(EventFollower)
        if event_ids is not None:
            query = query.where(Event.id.in_(event_ids))
            followers = followers.where(EventFollower.event_id.in_(event_ids))
        events = {row.id: _info(row) async for row in _each(session, query)}
        wanted: dict[tuple[str, str, int], tuple[int, datetime, Payload]] = {}
        for event in events.values():
            for target in _targets_of(event, targets):
                for offset in target.offsets:
                    due = offset.due(_start(event), event.zone)
                    slot = (REMINDER, _planned_key(event, offset.label), target.channel_id)
                    wanted[slot] = (target.guild_id, due, render.reminder(event, offset, target.locale))
        async for follower in _each(session, followers):
            followed = events.get(follower.event_id)
            if followed is not None:
                slot, direct = _direct(followed, follower, now)
                wanted[slot] = direct
        pending = select(Delivery.id, Delivery.kind, Delivery.key, Delivery.channel_id).where(
            Delivery.kind.in_(PLANNED), Delivery.state == PENDING
        )
        if event_ids is not None and len(event_ids) <= MAX_KEY_FILTERS:
            pending = pending.where(or_(*(Delivery.key.startswith(f"{event_id}:") for event_id in event_ids)))
        stale: list[int] = []
        async for row in _rows(session, pending):
            if event_ids is not None and int(row.key.split(":", 1)[0]) not in event_ids:
                continue
            planned = wanted.pop((row.kind, row.key, row.channel_id), None)
            if planned is None:
                stale.append(row.id)
            elif event_ids is not None:
                await session.execute(
                    update(Delivery).where(Delivery.id == row.id).values(payload=planned[2].to_json())
                )
        if stale:
            await session.execute(update(Delivery).where(Delivery.id.in_(stale)).values(state=DELIVERY_CANCELLED))
        for (kind, key, channel_id), (guild_id, due, payload) in wanted.items():
            if due <= now:
                continue  # its moment passed before it was planned: never a late reminder
            await enqueue(
                session, kind=kind, key=key, guild_id=guild_id, channel_id=channel_id, payload=payload, due_at=due
            )

    async def _announce(self, session: AsyncSession, event: EventInfo, kind: str) -> None:
        """Post about this event once in every events channel that shows it."""
        for target in _targets_of(event, await _targets(session)):
            payload = render.new_event(event, target.locale) if kind == NEW else render.cancelled(event, target.locale)
            await enqueue(
                session,
                kind=kind,
                key=str(event.id),
                guild_id=target.guild_id,
                channel_id=target.channel_id,
                payload=payload,
                due_at=self._clock.now(),
            )


async def _each(session: AsyncSession, statement: Executable) -> AsyncIterator[Any]:
    """The statement's objects, fetched a chunk at a time so that a big read never holds the event loop."""
    result = await session.stream_scalars(statement.execution_options(yield_per=CHUNK))
    async for chunk in result.partitions():
        for item in chunk:
            yield item
        await asyncio.sleep(0)


async def _rows(session: AsyncSession, statement: Executable) -> AsyncIterator[Any]:
    """The statement's rows, a chunk at a time."""
    result = await session.stream(statement.execution_options(yield_per=CHUNK))
    async for chunk in result.partitions():
        for row in chunk:
            yield row
        await asyncio.sleep(0)


def _direct(
    event: EventInfo, follower: EventFollower, now: datetime
) -> tuple[tuple[str, str, int], tuple[int, datetime, Payload]]:
    """A follower's direct reminder: an hour before the start, or at the start when they asked later."""
    due = render.DIRECT_REMINDER_BEFORE.due(_start(event), event.zone)
    due = due if due > now or _start(event) <= now else _start(event)
    slot = (DIRECT, _planned_key(event, str(follower.user_id)), follower.dm_channel_id)
    return slot, (follower.guild_id, due, render.direct_reminder(event, follower.locale))


async def _cancel_direct(session: AsyncSession, event_id: int, user_id: int) -> None:
    """Drop a member's direct reminders of an event still to be sent."""
    await session.execute(
        update(Delivery)
        .where(Delivery.kind == DIRECT, Delivery.state == PENDING, Delivery.key.startswith(f"{event_id}:{user_id}:"))
        .values(state=DELIVERY_CANCELLED)
    )


async def _targets(session: AsyncSession) -> dict[int, Target]:
    """Every guild with an events channel."""
    rows = await session.scalars(select(GuildSettings).where(GuildSettings.events_channel_id.is_not(None)))
    return {
        row.guild_id: Target(
            row.guild_id, row.events_channel_id or 0, row.locale, parse_offsets(row.reminder_offsets or DEFAULT_OFFSETS)
        )
        for row in rows
    }


def _targets_of(event: EventInfo, targets: dict[int, Target]) -> Sequence[Target]:
    if event.guild_id == NETWORK:
        return list(targets.values())
    target = targets.get(event.guild_id)
    return [target] if target else []


def _visible(event: EventInfo, guild_id: int, chapter_key: str | None) -> bool:
    return event.guild_id in (guild_id, NETWORK) and (chapter_key is None or chapter_key in event.chapter_keys)


def _start(event: EventInfo) -> datetime:
    assert event.starts_at is not None
    return event.starts_at


def _planned_key(event: EventInfo, what: str) -> str:
    return f"{event.id}:{what}:{int(_start(event).timestamp())}"


def _summit_values(summit: SummitInfo) -> dict[str, Any]:
    return {
        "origin": f"directory:{summit.key}",
        "name": summit.name[:100],
        "starts_at": summit.starts_at,
        "ends_at": summit.starts_at + SUMMIT_LENGTH if summit.starts_at else None,
        "timezone": summit.timezone or "UTC",
        "year": summit.year or (summit.starts_at.year if summit.starts_at else None),
        "city": summit.city,
        "country": summit.country,
        "url": summit.url,
        "description": summit.description or "",
    }


def _ics(event: EventInfo) -> IcsEvent:
    assert event.starts_at is not None and event.ends_at is not None
    return IcsEvent(
        uid=f"event-{event.id}@codeforall-bot",
        sequence=event.sequence,
        title=event.name,
        description=event.description,
        location=event.location or (f"{event.city}, {event.country}" if event.city else ""),
        url=event.url,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        zone=event.zone,
        cancelled=event.status == CANCELLED,
        updated_at=event.updated_at,
    )


def _from_calendar(item: CalendarEvent, calendar: CalendarSource) -> dict[str, Any]:
    return {
        "sequence": item.sequence,
        "name": storable(item.title)[:100] or "…",
        "chapter_keys": [calendar.chapter_key] if calendar.chapter_key else [],
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "timezone": item.zone,
        "all_day": item.all_day,
        "year": item.starts_at.year,
        "location": storable(item.location)[:100] or None,
        "url": item.url if item.url and len(item.url) <= 500 else None,
        "description": item.description,
    }


def series(uid: str) -> str:
    """The UID of the recurring event an occurrence id (UID/20270310T170000Z) belongs to; the UID itself else."""
    base, _, stamp = uid.rpartition("/")
    return base if base and len(stamp) == 16 and stamp.endswith("Z") and stamp[8] == "T" else uid


def _take(row: Event, item: CalendarEvent, calendar: CalendarSource, changed: list[Event]) -> None:
    for name, value in _from_calendar(item, calendar).items():
        setattr(row, name, value)
    row.status = SCHEDULED
    row.version += 1
    changed.append(row)


def _call_off(row: Event, cancelled: list[Event]) -> None:
    row.status = CANCELLED
    row.version += 1
    cancelled.append(row)


def _calendar_changed(row: Event, item: CalendarEvent, calendar: CalendarSource) -> bool:
    return row.status == CANCELLED or any(
        getattr(row, name) != value for name, value in _from_calendar(item, calendar).items()
    )


def _info(row: Event) -> EventInfo:
    return EventInfo(
        id=row.id,
        guild_id=row.guild_id,
        origin=row.origin,
        name=row.name,
        chapter_keys=tuple(row.chapter_keys or ()),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        zone=row.timezone,
        all_day=row.all_day,
        year=row.year,
        city=row.city,
        country=row.country,
        location=row.location,
        url=row.url,
        description=row.description,
        status=row.status,
        version=row.version,
        sequence=row.sequence,
        updated_at=row.updated_at,
    )
