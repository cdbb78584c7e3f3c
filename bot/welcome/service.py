"""Newcomers welcomed once per join, their tips planned as due rows of the outbox, the chapter each member picks
with the chapter's role, and what the bot keeps about a member, shown and forgotten on request.

A welcome and its tips are keyed by the join (guild, member, time of joining), so a restart or a replayed
gateway event welcomes nobody twice, and a member who leaves has the tips still waiting cancelled. A chapter's
role is a stored guild resource (owner ``chapter:KEY``): found again rather than duplicated, created again when
someone deleted it, or an existing role an organiser mapped to the chapter.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.outbox import CANCELLED, PENDING, Payload, enqueue
from bot.guilds.resources import GuildResources
from bot.summits.events import EventInfo
from bot.summits.service import EventService
from bot.welcome.tips import BY_DAY, TIPS, tip_payload
from db.models import Arrival, ChapterPick, Delivery

WELCOME_KIND, TIP_KIND = "welcome", "welcome-tip"
KINDS = (WELCOME_KIND, TIP_KIND)
SYSTEM, CHANNEL, DM, OFF = "system", "channel", "dm", "off"
MODES = (SYSTEM, CHANNEL, DM, OFF)
"""Where a guild's welcome goes: its system channel (the default), a chosen channel, a direct message, nowhere."""
CHAPTER_OWNER, PARTNER_OWNER, ROLE = "chapter:", "partner:", "role"
ARCHIVED_OWNER = "archived:"  # a partner's role kept when its space was archived


@dataclass(frozen=True, slots=True)
class Newcomer:
    """One join: who, where, when, and the server's name and language for the tips."""

    guild_id: int
    user_id: int
    joined_at: datetime
    server: str
    locale: str | None


@dataclass(frozen=True, slots=True)
class Greeting:
    """The welcome post and the channel it goes to (a guild channel, or the newcomer's direct messages)."""

    channel_id: int
    payload: Payload


class RolePort(Protocol):
    """The roles of one guild, as picking a chapter needs them."""

    async def exists(self, role_id: int) -> bool:
        """Whether the role is still in the guild."""
        ...

    async def create(self, name: str) -> int:
        """A new role with no permissions, not mentionable, below the bot's; its id."""
        ...

    async def held(self, user_id: int) -> set[int]:
        """The roles the member holds now."""
        ...

    async def move(self, user_id: int, add: int, remove: Collection[int]) -> None:
        """Give the member one role and take others away."""
        ...


@dataclass(frozen=True, slots=True)
class Picked:
    """What a pick did: the chapter's role, whether it was made now, the chapter picked before and roles taken."""

    role_id: int
    created: bool
    previous: str | None
    removed: frozenset[int]


@dataclass(frozen=True, slots=True)
class Kept:
    """Everything the bot stores about one member, in every server."""

    picks: tuple[tuple[int, str, datetime], ...]  # (guild, chapter key, when) of each pick
    arrivals: tuple[tuple[int, datetime], ...]  # (guild, when) of each join welcomed
    reminders: tuple[tuple[int, EventInfo], ...]  # (guild, event) of each "Remind me"
    tips: tuple[tuple[int, datetime], ...]  # (guild, when) of each tip still to come

    @property
    def empty(self) -> bool:
        """Whether nothing is stored."""
        return not (self.picks or self.arrivals or self.reminders or self.tips)


@dataclass(frozen=True, slots=True)
class Forgotten:
    """How much `forget` deleted and cancelled."""

    picks: int
    arrivals: int
    reminders: int
    tips: int


def join_key(newcomer: Newcomer) -> str:
    """The key of a join's welcome; its tips add the day."""
    return f"{_prefix(newcomer.guild_id, newcomer.user_id)}{int(newcomer.joined_at.timestamp())}"


def _prefix(guild_id: int, user_id: int) -> str:
    return f"{guild_id}:{user_id}:"


class WelcomeService:
    """Welcomes, tips, chapter picks and roles; what is kept about a member."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, events: EventService) -> None:
        self._sessions = sessions
        self._clock = clock
        self._events = events
        self.resources = GuildResources(sessions)
        self._role_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- joining and leaving ------------------------------------------------------------------------

    async def arrive(self, newcomer: Newcomer, greeting: Greeting | None, tips_channel_id: int | None) -> bool:
        """Plan the welcome now and the tips on their days, once per join; False when this join was seen."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            if not await _first_arrival(session, newcomer, now):
                return False
            key = join_key(newcomer)
            if greeting is not None:
                await enqueue(
                    session,
                    kind=WELCOME_KIND,
                    key=key,
                    guild_id=newcomer.guild_id,
                    channel_id=greeting.channel_id,
                    payload=greeting.payload,
                    due_at=now,
                )
            for tip in TIPS if tips_channel_id is not None else ():
                await enqueue(
                    session,
                    kind=TIP_KIND,
                    key=f"{key}:{tip.day}",
                    guild_id=newcomer.guild_id,
                    channel_id=tips_channel_id or 0,
                    payload=tip_payload(tip, newcomer.server, newcomer.locale),
                    due_at=now + tip.after,
                )
        return True

    async def leave(self, guild_id: int, user_id: int) -> int:
        """A member left: cancel their welcome and tips still waiting, forget their pick; how many were cancelled."""
        async with self._sessions.begin() as session:
            cancelled = await _cancel_waiting(session, [guild_id], user_id)
            await session.execute(
                delete(ChapterPick).where(ChapterPick.guild_id == guild_id, ChapterPick.user_id == user_id)
            )
        return cancelled

    # -- chapters and their roles -----------------------------------------------------------------------

    async def picked(self, guild_id: int, user_id: int) -> str | None:
        """The key of the chapter the member picked in this guild, if any."""
        async with self._sessions() as session:
            row = await session.get(ChapterPick, (guild_id, user_id))
            return row.chapter_key if row else None

    async def chapter_roles(self, guild_id: int) -> dict[str, int]:
        """chapter key -> role id of every chapter role stored for the guild (made by the bot or mapped)."""
        roles = await self.resources.of_kind(guild_id, ROLE)
        return {owner[len(CHAPTER_OWNER) :]: id_ for owner, id_ in roles.items() if owner.startswith(CHAPTER_OWNER)}

    async def partner_roles(self, guild_id: int) -> set[int]:
        """The roles of partners' spaces in the guild, in use or archived (they open private channels)."""
        roles = await self.resources.of_kind(guild_id, ROLE)
        return {id_ for owner, id_ in roles.items() if owner.startswith((PARTNER_OWNER, ARCHIVED_OWNER))}

    async def map_role(self, guild_id: int, chapter_key: str, role_id: int | None) -> None:
        """Give members who pick this chapter an existing role; None: a role the bot makes for it again."""
        owner = CHAPTER_OWNER + chapter_key
        if role_id is None:
            await self.resources.forget(guild_id, owner, ROLE)
        else:
            await self.resources.remember(guild_id, owner, ROLE, ROLE, role_id)

    async def pick(
        self, port: RolePort, guild_id: int, user_id: int, chapter_key: str, role_name: str, *, server: str, locale: str
    ) -> Picked:
        """Give the member the chapter's role (made when missing), take other chapters' roles, remember the pick.

        The member's tips still to come are told again in `locale`, the language their client speaks.
        """
        async with self._role_locks[guild_id]:  # two first picks of one chapter make one role
            role_id, created = await self._role(port, guild_id, chapter_key, role_name)
        others = {id_ for key, id_ in (await self.chapter_roles(guild_id)).items() if key != chapter_key}
        held = await port.held(user_id)
        removed = frozenset((held & others) - {role_id})
        if role_id not in held or removed:
            await port.move(user_id, role_id, removed)
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.get(ChapterPick, (guild_id, user_id), with_for_update=True)
            previous = row.chapter_key if row else None
            if row is None:
                session.add(ChapterPick(guild_id=guild_id, user_id=user_id, chapter_key=chapter_key, picked_at=now))
            else:
                row.chapter_key, row.picked_at = chapter_key, now
            await _retell_tips(session, guild_id, user_id, server, locale)
        return Picked(role_id, created, previous, removed)

    async def _role(self, port: RolePort, guild_id: int, chapter_key: str, role_name: str) -> tuple[int, bool]:
        owner = CHAPTER_OWNER + chapter_key
        stored = (await self.resources.of(guild_id, owner)).get(ROLE)
        if stored is not None and await port.exists(stored[1]):
            return stored[1], False
        role_id = await port.create(role_name)
        await self.resources.remember(guild_id, owner, ROLE, ROLE, role_id)
        return role_id, True

    # -- what is kept about a member ------------------------------------------------------------------

    async def kept(self, user_id: int) -> Kept:
        """Everything stored about the member: picks, joins, event reminders asked for, tips still to come."""
        async with self._sessions() as session:
            picks = tuple(
                (row.guild_id, row.chapter_key, row.picked_at)
                for row in await session.scalars(select(ChapterPick).where(ChapterPick.user_id == user_id))
            )
            arrivals = tuple(
                (row.guild_id, row.joined_at)
                for row in await session.scalars(select(Arrival).where(Arrival.user_id == user_id))
            )
            guilds = {pick[0] for pick in picks} | {arrival[0] for arrival in arrivals}
            tips = await session.execute(
                select(Delivery.guild_id, Delivery.next_attempt_at)
                .where(_waiting(guilds, user_id, (TIP_KIND,)))
                .order_by(Delivery.next_attempt_at)
            )
            coming = tuple((row.guild_id, row.next_attempt_at) for row in tips)
        reminders = tuple(await self._events.followed_by(user_id))
        return Kept(picks, arrivals, reminders, coming)

    async def forget(self, user_id: int) -> Forgotten:
        """Delete everything stored about the member and cancel what was still to be sent to them."""
        async with self._sessions.begin() as session:
            arrivals = (await session.scalars(select(Arrival.guild_id).where(Arrival.user_id == user_id))).all()
            picks = (await session.scalars(select(ChapterPick.guild_id).where(ChapterPick.user_id == user_id))).all()
            tips = await _cancel_waiting(session, {*arrivals, *picks}, user_id)
            await session.execute(delete(ChapterPick).where(ChapterPick.user_id == user_id))
            await session.execute(delete(Arrival).where(Arrival.user_id == user_id))
        reminders = await self._events.forget_follower(user_id)
        return Forgotten(len(picks), len(arrivals), reminders, tips)


async def _first_arrival(session: AsyncSession, newcomer: Newcomer, now: datetime) -> bool:
    """Record the join; False when it was recorded before."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Arrival)
        .values(guild_id=newcomer.guild_id, user_id=newcomer.user_id, joined_at=newcomer.joined_at, created_at=now)
        .on_conflict_do_nothing(index_elements=["guild_id", "user_id", "joined_at"])
        .returning(Arrival.id)
    )
    return (await session.execute(statement)).scalar() is not None


def _waiting(guild_ids: Collection[int], user_id: int, kinds: Collection[str] = KINDS) -> ColumnElement[bool]:
    """The member's welcome rows (of these kinds) still waiting in these guilds."""
    prefixes = [Delivery.key.startswith(_prefix(guild_id, user_id)) for guild_id in guild_ids]
    return and_(Delivery.kind.in_(kinds), Delivery.state == PENDING, or_(*prefixes) if prefixes else false())


async def _cancel_waiting(session: AsyncSession, guild_ids: Collection[int], user_id: int) -> int:
    if not guild_ids:
        return 0
    result = await session.execute(update(Delivery).where(_waiting(guild_ids, user_id)).values(state=CANCELLED))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _retell_tips(session: AsyncSession, guild_id: int, user_id: int, server: str, locale: str) -> None:
    rows = await session.execute(select(Delivery.id, Delivery.key).where(_waiting([guild_id], user_id, (TIP_KIND,))))
    for row in rows.all():
        tip = BY_DAY.get(int(row.key.rpartition(":")[2]))
        if tip is not None:
            payload = tip_payload(tip, server, locale).to_json()
            await session.execute(update(Delivery).where(Delivery.id == row.id).values(payload=payload))
