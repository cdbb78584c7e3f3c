"""Announcements as drafts, then scheduled posts: one delivery per channel, written with the announcement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.outbox import CANCELLED, PENDING, Payload, enqueue
from bot.errors import UserError
from bot.i18n import N_
from bot.times import local_text, parse_local, zone
from db.models import Announcement, Delivery

KIND = "announcement"
MAX_TITLE = 256
MAX_BODY = 4000
MAX_CHANNELS = 5
COLOUR = 0x2B6CB0
SCHEDULED = "scheduled"


@dataclass(frozen=True, slots=True)
class Draft:
    """What an organiser is about to announce; `due_at` None means as soon as it is confirmed."""

    guild_id: int
    author_id: int
    channel_ids: tuple[int, ...]
    zone: str
    title: str = ""
    body: str = ""
    role_id: int | None = None
    due_at: datetime | None = None

    def with_text(self, title: str, body: str) -> Draft:
        """The draft with this title and body, checked against Discord's limits."""
        title, body = title.strip(), body.strip()
        if not title:
            raise UserError(N_("An announcement needs a title."))
        if len(title) > MAX_TITLE:
            raise UserError(N_("The title has at most {limit} characters."), limit=MAX_TITLE)
        if len(body) > MAX_BODY:
            raise UserError(N_("The text has at most {limit} characters."), limit=MAX_BODY)
        return replace(self, title=title, body=body)

    @property
    def local_time(self) -> str | None:
        """When, as the organiser typed it (local time in the zone)."""
        return local_text(self.due_at, self.zone) if self.due_at else None


@dataclass(frozen=True, slots=True)
class Scheduled:
    """An announcement waiting to go out."""

    id: int
    title: str
    channel_ids: tuple[int, ...]
    role_id: int | None
    due_at: datetime
    zone: str

    @property
    def local_time(self) -> str:
        """When, in the announcement's own zone."""
        return local_text(self.due_at, self.zone)


def embed(title: str, body: str) -> dict[str, Any]:
    """The announcement as a Discord embed (plain JSON)."""
    data: dict[str, Any] = {"title": title, "color": COLOUR}
    if body:
        data["description"] = body
    return data


def payload(draft: Draft) -> Payload:
    """The post: the embed, the role's mention when one was chosen, crossposted in announcement channels."""
    content = f"<@&{draft.role_id}>" if draft.role_id else ""
    return Payload(
        content=content, embeds=[embed(draft.title, draft.body)], mention_role_id=draft.role_id, crosspost=True
    )


class AnnouncementService:
    """Drafts, schedules, lists and cancels announcements."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def draft(
        self,
        *,
        guild_id: int,
        author_id: int,
        channel_ids: Sequence[int],
        zone_name: str,
        when: str | None,
        role_id: int | None,
    ) -> Draft:
        """A draft without text yet; refuses an unknown zone, a bad or past time and too many channels."""
        channels = tuple(dict.fromkeys(channel_ids))
        if not channels or len(channels) > MAX_CHANNELS:
            raise UserError(N_("Choose between 1 and {limit} channels."), limit=MAX_CHANNELS)
        tz = zone(zone_name)
        due = parse_local(when, tz.key, self._clock.now()) if when and when.strip() else None
        return Draft(guild_id, author_id, channels, tz.key, role_id=role_id, due_at=due)

    async def schedule(self, draft: Draft) -> Scheduled:
        """Save the announcement and its deliveries in one transaction; refuses a time that has passed meanwhile."""
        now = self._clock.now()
        if draft.due_at is not None and draft.due_at <= now:
            raise UserError(N_("That time has passed while you were writing: choose a new one."))
        due = draft.due_at or now
        async with self._sessions.begin() as session:
            row = Announcement(
                guild_id=draft.guild_id,
                author_id=draft.author_id,
                title=draft.title,
                body=draft.body,
                channel_ids=list(draft.channel_ids),
                role_id=draft.role_id,
                due_at=due,
                timezone=draft.zone,
                state=SCHEDULED,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            for channel_id in draft.channel_ids:
                await enqueue(
                    session,
                    kind=KIND,
                    key=str(row.id),
                    guild_id=draft.guild_id,
                    channel_id=channel_id,
                    payload=payload(draft),
                    due_at=due,
                )
        return _scheduled(row)

    async def scheduled(self, guild_id: int) -> list[Scheduled]:
        """The guild's announcements still waiting to go out, soonest first."""
        waiting = select(Delivery.key).where(
            Delivery.kind == KIND, Delivery.guild_id == guild_id, Delivery.state == PENDING
        )
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Announcement)
                .where(Announcement.guild_id == guild_id, Announcement.state == SCHEDULED)
                .where(cast(Announcement.id, String).in_(waiting))
                .order_by(Announcement.due_at, Announcement.id)
            )
            return [_scheduled(row) for row in rows]

    async def cancel(self, guild_id: int, announcement_id: int) -> Scheduled:
        """Stop a scheduled announcement; posts already on their way cannot be called back."""
        async with self._sessions.begin() as session:
            row = await session.get(Announcement, announcement_id)
            if row is None or row.guild_id != guild_id or row.state != SCHEDULED:
                raise UserError(N_("There is no scheduled announcement number {number} here."), number=announcement_id)
            stopped = await session.execute(
                update(Delivery)
                .where(Delivery.kind == KIND, Delivery.key == str(row.id), Delivery.state == PENDING)
                .values(state=CANCELLED)
            )
            if not stopped.rowcount:  # type: ignore[attr-defined]
                raise UserError(N_("Announcement {number} has already gone out."), number=announcement_id)
            row.state = CANCELLED
            return _scheduled(row)


def _scheduled(row: Announcement) -> Scheduled:
    return Scheduled(row.id, row.title, tuple(row.channel_ids), row.role_id, row.due_at, row.timezone)
