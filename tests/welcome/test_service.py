"""Welcomes and tips in the outbox once per join, leaving, chapter picks and their roles, what is kept and forgotten."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.delivery.outbox import CANCELLED, PENDING, SENT, Payload
from bot.guilds.settings import GuildSettingsService
from bot.summits.events import EventDraft
from bot.summits.service import EventService
from bot.welcome.service import TIP_KIND, WELCOME_KIND, Greeting, Newcomer, WelcomeService
from db.models import Delivery

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
GUILD, OTHER, MEI, TOM, CHANNEL, DM = 10, 20, 100, 200, 11, 900


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def events(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> EventService:
    service = EventService(sessions, clock)
    await service.load()
    return service


@pytest.fixture
def welcome(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, events: EventService) -> WelcomeService:
    return WelcomeService(sessions, clock, events)


class Roles:
    """A guild's roles in memory, as the Discord adapter would keep them."""

    def __init__(self) -> None:
        self.roles: dict[int, str] = {}
        self.members: dict[int, set[int]] = {MEI: set(), TOM: set()}
        self._next = 500

    async def exists(self, role_id: int) -> bool:
        return role_id in self.roles

    async def create(self, name: str) -> int:
        self._next += 1
        self.roles[self._next] = name
        return self._next

    async def held(self, user_id: int) -> set[int]:
        return set(self.members[user_id])

    async def move(self, user_id: int, add: int, remove: Collection[int]) -> None:
        self.members[user_id] = (self.members[user_id] | {add}) - set(remove)

    def of(self, user_id: int) -> set[str]:
        return {self.roles.get(role, str(role)) for role in self.members[user_id]}


def newcomer(user_id: int = MEI, joined: datetime = NOW, guild_id: int = GUILD) -> Newcomer:
    return Newcomer(guild_id, user_id, joined, "Code for All", None)


def greeting(user_id: int = MEI) -> Greeting:
    return Greeting(CHANNEL, Payload(content=f"Welcome <@{user_id}>", mention_user_id=user_id))


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, int, datetime, str]]:
    async with sessions() as session:
        found = await session.execute(
            select(Delivery.kind, Delivery.key, Delivery.channel_id, Delivery.next_attempt_at, Delivery.state).order_by(
                Delivery.id
            )
        )
        return [tuple(row) for row in found]


async def test_a_join_plans_the_welcome_now_and_three_tips_once(
    welcome: WelcomeService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await welcome.arrive(newcomer(), greeting(), DM)
    assert not await welcome.arrive(newcomer(), greeting(), DM)  # a replay, or a restart
    key = f"{GUILD}:{MEI}:{int(NOW.timestamp())}"
    assert await rows(sessions) == [
        (WELCOME_KIND, key, CHANNEL, NOW, PENDING),
        (TIP_KIND, f"{key}:1", DM, NOW + timedelta(days=1), PENDING),
        (TIP_KIND, f"{key}:3", DM, NOW + timedelta(days=3), PENDING),
        (TIP_KIND, f"{key}:7", DM, NOW + timedelta(days=7), PENDING),
    ]
    assert await welcome.arrive(newcomer(joined=NOW + timedelta(days=30)), greeting(), None)  # she came back
    assert len(await rows(sessions)) == 5


async def test_a_guild_may_want_only_the_welcome_or_only_the_tips(
    welcome: WelcomeService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await welcome.arrive(newcomer(MEI), greeting(MEI), None)
    await welcome.arrive(newcomer(TOM), None, DM)
    assert [(kind, channel) for kind, _, channel, _, _ in await rows(sessions)] == [
        (WELCOME_KIND, CHANNEL),
        (TIP_KIND, DM),
        (TIP_KIND, DM),
        (TIP_KIND, DM),
    ]


async def test_leaving_cancels_only_what_waits_for_that_member_there(
    welcome: WelcomeService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await welcome.arrive(newcomer(MEI), greeting(MEI), DM)
    await welcome.arrive(newcomer(TOM), greeting(TOM), DM + 1)
    await welcome.arrive(newcomer(MEI, guild_id=OTHER), None, DM)
    async with sessions.begin() as session:
        await session.execute(update(Delivery).where(Delivery.kind == WELCOME_KIND).values(state=SENT))
    assert await welcome.leave(GUILD, MEI) == 3
    states = [(key.split(":")[0], key.split(":")[1], kind, state) for kind, key, _, _, state in await rows(sessions)]
    assert [s for g, u, k, s in states if (g, u) == (str(GUILD), str(MEI))] == [SENT, CANCELLED, CANCELLED, CANCELLED]
    assert {s for g, u, k, s in states if (g, u) != (str(GUILD), str(MEI)) and k == TIP_KIND} == {PENDING}


async def test_a_pick_makes_the_chapter_role_once_and_moves_a_second_pick(welcome: WelcomeService) -> None:
    roles = Roles()
    first = await welcome.pick(roles, GUILD, MEI, "g0v", "g0v", server="Code for All", locale="en-US")
    assert first.created and first.previous is None and roles.of(MEI) == {"g0v"}
    tom = await welcome.pick(roles, GUILD, TOM, "g0v", "g0v", server="Code for All", locale="en-US")
    assert not tom.created and tom.role_id == first.role_id and len(roles.roles) == 1
    moved = await welcome.pick(roles, GUILD, MEI, "code4romania", "Code for Romania", server="x", locale="en-US")
    assert moved.previous == "g0v" and moved.removed == {first.role_id} and roles.of(MEI) == {"Code for Romania"}
    assert await welcome.picked(GUILD, MEI) == "code4romania"
    assert await welcome.chapter_roles(GUILD) == {"g0v": first.role_id, "code4romania": moved.role_id}


async def test_a_role_deleted_by_hand_is_made_again_and_a_mapped_role_is_used(welcome: WelcomeService) -> None:
    roles = Roles()
    first = await welcome.pick(roles, GUILD, MEI, "g0v", "g0v", server="Code for All", locale="en-US")
    del roles.roles[first.role_id]
    again = await welcome.pick(roles, GUILD, TOM, "g0v", "g0v", server="Code for All", locale="en-US")
    assert again.created and again.role_id != first.role_id
    roles.roles[42] = "Taiwan friends"
    await welcome.map_role(GUILD, "g0v", 42)
    mapped = await welcome.pick(roles, GUILD, MEI, "g0v", "g0v", server="Code for All", locale="en-US")
    assert mapped.role_id == 42 and not mapped.created and "Taiwan friends" in roles.of(MEI)
    await welcome.map_role(GUILD, "g0v", None)
    assert "g0v" not in await welcome.chapter_roles(GUILD)


async def test_a_pick_tells_the_tips_to_come_in_the_members_language(
    welcome: WelcomeService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await welcome.arrive(newcomer(), greeting(), DM)
    await welcome.pick(Roles(), GUILD, MEI, "g0v", "g0v", server="Code for All", locale="de")
    async with sessions() as session:
        payloads = (await session.scalars(select(Delivery.payload).where(Delivery.kind == TIP_KIND))).all()
    assert all(not payload["content"].startswith("A tip") for payload in payloads)


async def test_what_is_kept_about_a_member_and_forgetting_it(
    welcome: WelcomeService, events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await GuildSettingsService(sessions).update(GUILD, events_channel_id=CHANNEL)
    await welcome.arrive(newcomer(), greeting(), DM)
    await welcome.arrive(newcomer(TOM), greeting(TOM), DM + 1)
    await welcome.pick(Roles(), GUILD, MEI, "g0v", "g0v", server="Code for All", locale="en-US")
    starts = NOW + timedelta(days=10)
    event = await events.add(EventDraft(GUILD, 1, "UTC", starts, starts + timedelta(hours=1), name="Hack Night"))
    await events.follow(GUILD, event.id, MEI, DM, "en-US")

    kept = await welcome.kept(MEI)
    assert [(g, k) for g, k, _ in kept.picks] == [(GUILD, "g0v")] and kept.arrivals == ((GUILD, NOW),)
    assert [(g, e.name) for g, e in kept.reminders] == [(GUILD, "Hack Night")]
    assert [when for _, when in kept.tips] == [NOW + timedelta(days=d) for d in (1, 3, 7)]

    forgotten = await welcome.forget(MEI)
    assert (forgotten.picks, forgotten.arrivals, forgotten.reminders, forgotten.tips) == (1, 1, 1, 4)
    assert (await welcome.kept(MEI)).empty and not (await welcome.kept(TOM)).empty
    async with sessions() as session:
        direct = (await session.scalars(select(Delivery.state).where(Delivery.kind == "event-direct"))).all()
    assert direct == [CANCELLED]
