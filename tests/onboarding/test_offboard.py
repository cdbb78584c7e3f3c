"""Offboarding on a real database and a guild in memory: the plan lists what will happen, a run does it once,
stores each step as it goes, resumes after a failure, and stops the space's feeds, calendars and posts."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.config import DEFAULT_SEED_FILE
from bot.delivery.outbox import CANCELLED, PENDING, Payload, enqueue
from bot.directory.authority import Right
from bot.directory.proposals import ProposalService
from bot.directory.service import DirectoryService
from bot.errors import UserError
from bot.feeds.fetch import Fetcher
from bot.feeds.service import FeedService
from bot.guilds.settings import GuildSettingsService
from bot.onboarding.apply import apply_plan
from bot.onboarding.offboard import (
    ARCHIVE,
    ARCHIVE_CHANNEL,
    CANCEL_POSTS,
    CREATE_ARCHIVE,
    DELETE,
    DELETE_CATEGORY,
    DELETE_CHANNEL,
    DELETE_ROLE,
    DIRECTORY_DONE,
    DIRECTORY_PROPOSED,
    DIRECTORY_READ_ONLY,
    FORGET,
    KEEP_ROLE,
    MARK_ALUMNI,
    PROPOSE_ALUMNI,
    READ_ONLY,
    STOP_CALENDAR,
    STOP_FEED,
    OffboardingService,
    OffboardOutcome,
    OffboardPlan,
    refusals,
)
from bot.onboarding.plan import ChannelPlan, GuildFacts, Overwrite, plan_partner
from bot.summits.calendars import CalendarService
from bot.summits.service import EventService
from bot.welcome.service import WelcomeService
from db.models import Calendar, ChangeRecord, Delivery, Feed, FeedSubscription, Proposal

GUILD, ACTOR = 1, 5
START = datetime(2026, 1, 1, 12, tzinfo=UTC)
FACTS = GuildFacts(
    bot_permissions=frozenset({"manage_roles", "manage_channels", "view_channel", *READ_ONLY}), bot_top_role_position=10
)


@dataclass
class Thing:
    kind: str
    name: str
    parent: int | None = None
    denied: dict[int | None, frozenset[str]] = field(default_factory=dict)


class MemoryGuild:
    """A guild's objects in memory; `fail_on_archive` fails that archive move (1 = the first)."""

    def __init__(self) -> None:
        self.things: dict[int, Thing] = {}
        self.given: list[tuple[int, int]] = []
        self._ids = itertools.count(100)
        self.archived = 0
        self.fail_on_archive: int | None = None

    async def exists(self, kind: str, discord_id: int) -> bool:
        return discord_id in self.things and self.things[discord_id].kind == kind

    async def create_role(self, name: str, colour: int) -> int:
        return self._add(Thing("role", name))

    async def create_category(self, name: str, overwrites: tuple[Overwrite, ...], role_id: int) -> int:
        return self._add(Thing("category", name))

    async def create_channel(self, channel: ChannelPlan, category_id: int, role_id: int) -> int:
        return self._add(Thing("channel", channel.name, category_id))

    async def add_role(self, member_id: int, role_id: int) -> None:
        self.given.append((member_id, role_id))

    async def delete(self, kind: str, discord_id: int) -> None:
        del self.things[discord_id]

    async def archive_channel(
        self, channel_id: int, category_id: int, role_id: int | None, deny: frozenset[str]
    ) -> None:
        self.archived += 1
        if self.archived == self.fail_on_archive:
            raise PermissionError("403 Forbidden (error code: 50013): Missing Permissions")
        thing = self.things[channel_id]
        thing.parent, thing.denied = category_id, {None: deny, role_id: deny}

    def _add(self, thing: Thing) -> int:
        discord_id = next(self._ids)
        self.things[discord_id] = thing
        return discord_id

    def named(self, name: str, kind: str = "channel") -> int:
        return next(i for i, t in self.things.items() if t.name == name and t.kind == kind)


@dataclass
class World:
    service: OffboardingService
    directory: DirectoryService
    guild: MemoryGuild
    sessions: async_sessionmaker[AsyncSession]

    async def onboard(self, key: str = "g0v", short: str = "tw") -> None:
        chapter = self.directory.chapters[key]
        plan = plan_partner(key, chapter.name, short)
        assert (await apply_plan(plan, self.guild, self.service.resources, GUILD)).ok

    async def plan(
        self, mode: str = ARCHIVE, *, keep_role: bool = True, right: Right | None = Right.EDIT, key: str = "g0v"
    ) -> OffboardPlan:
        chapter = self.directory.chapters[key]
        return await self.service.plan(self.guild, GUILD, chapter, mode, keep_role=keep_role, facts=FACTS, right=right)

    async def run(
        self, mode: str = ARCHIVE, *, keep_role: bool = True, right: Right | None = Right.EDIT, key: str = "g0v"
    ) -> OffboardOutcome:
        plan = await self.plan(mode, keep_role=keep_role, right=right, key=key)
        return await self.service.apply(
            plan,
            self.guild,
            self.directory.chapters[key],
            facts=FACTS,
            right=right,
            actor_id=ACTOR,
            actor_name="mei",
            guild_name="A partner server",
        )

    async def records(self, key: str = "g0v") -> list[ChangeRecord]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(ChangeRecord)
                .where(ChangeRecord.entity_key == key, ChangeRecord.action != "create")  # not the seed's
                .order_by(ChangeRecord.id)
            )
            return list(rows)


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[World]:
    clock = FakeClock(START)
    directory = DirectoryService(sessions)
    await directory.load(seed_file=DEFAULT_SEED_FILE)
    fetcher = Fetcher(allow_private=True, timeout=1)
    feeds = FeedService(sessions, clock, fetcher, directory, GuildSettingsService(sessions))
    calendars = CalendarService(sessions, clock, fetcher, EventService(sessions, clock))
    service = OffboardingService(sessions, directory, ProposalService(sessions, directory, clock), feeds, calendars)
    yield World(service, directory, MemoryGuild(), sessions)
    await fetcher.close()


def actions(plan: OffboardPlan) -> list[tuple[str, str]]:
    return [(step.action, step.name) for step in plan.steps]


CHANNELS = ["channel:announcements", "channel:general", "channel:projects", "channel:voice"]


async def test_archiving_plans_exactly_what_it_does_and_a_second_run_changes_nothing(world: World) -> None:
    await world.onboard()
    plan = await world.plan()
    assert actions(plan) == [
        (CREATE_ARCHIVE, "category"),
        *((ARCHIVE_CHANNEL, name) for name in CHANNELS),
        (DELETE_CATEGORY, "category"),
        (KEEP_ROLE, "role"),
        (MARK_ALUMNI, "governing"),
    ]
    outcome = await world.run()
    assert outcome.ok and len(outcome.done) == len(plan.steps)
    guild = world.guild
    archive = guild.named("Archive", "category")
    role = guild.named("g0v (Code for Taiwan)", "role")
    for name in ("tw-general", "tw-projects", "tw-announcements", "tw-voice"):
        channel = guild.things[guild.named(name)]
        assert channel.parent == archive and channel.denied == {None: READ_ONLY, role: READ_ONLY}
    assert sorted(t.kind for t in guild.things.values()) == [
        "category",
        "channel",
        "channel",
        "channel",
        "channel",
        "role",
    ]
    assert world.directory.chapters["g0v"].tier == "alumni"
    assert await world.service.resources.of(GUILD, "partner:g0v") == {}
    assert await world.service.spaces(GUILD) == ["g0v"]  # archived channels are left to delete later

    records = await world.records()
    assert [r.action for r in records] == ["update", "offboard"]
    assert records[-1].actor_name == "mei" and records[-1].changes["role"] == ["in use", "kept"]

    again = await world.plan()
    assert again.nothing_to_do and again.state == ARCHIVE and again.directory == DIRECTORY_DONE
    assert (await world.run()).done == []
    assert len(await world.records()) == 2 and len(guild.things) == 6


async def test_every_partner_archived_shares_one_archive_category(world: World) -> None:
    await world.onboard()
    await world.onboard("code4romania", "ro")
    await world.run()
    second = await world.plan(key="code4romania")
    assert CREATE_ARCHIVE not in [step.action for step in second.steps]
    await world.run(key="code4romania")
    archives = [t for t in world.guild.things.values() if t.name == "Archive"]
    assert len(archives) == 1
    assert world.guild.things[world.guild.named("ro-general")].parent == world.guild.named("Archive", "category")


async def test_a_kept_role_still_counts_as_a_partner_role(world: World) -> None:
    await world.onboard()
    await world.run()
    welcome = WelcomeService(world.sessions, FakeClock(START), EventService(world.sessions, FakeClock(START)))
    assert await welcome.partner_roles(GUILD) == {world.guild.named("g0v (Code for Taiwan)", "role")}


async def test_archiving_without_the_role_deletes_it(world: World) -> None:
    await world.onboard()
    assert (DELETE_ROLE, "role") in actions(await world.plan(keep_role=False))
    await world.run(keep_role=False)
    assert "role" not in {t.kind for t in world.guild.things.values()}


async def test_deleting_removes_everything_and_is_remembered(world: World) -> None:
    await world.onboard()
    plan = await world.plan(DELETE)
    assert actions(plan) == [
        *((DELETE_CHANNEL, name) for name in CHANNELS),
        (DELETE_CATEGORY, "category"),
        (DELETE_ROLE, "role"),
        (MARK_ALUMNI, "governing"),
    ]
    assert (await world.run(DELETE)).ok
    assert world.guild.things == {}
    assert await world.service.spaces(GUILD) == []
    again = await world.plan(DELETE)
    assert again.nothing_to_do and again.state == DELETE


async def test_an_archive_with_its_kept_role_is_deleted_later(world: World) -> None:
    await world.onboard()
    await world.run()
    plan = await world.plan(DELETE)
    assert [step.action for step in plan.steps] == [DELETE_CHANNEL] * 4 + [DELETE_ROLE]
    await world.run(DELETE)
    assert [t.name for t in world.guild.things.values()] == ["Archive"]


async def test_the_spaces_feeds_calendars_and_waiting_posts_stop(world: World) -> None:
    await world.onboard()
    announcements = world.guild.named("tw-announcements")
    async with world.sessions.begin() as session:
        feed = Feed(url="https://g0v.example/feed", next_poll_at=START)
        session.add(feed)
        await session.flush()
        for channel in (announcements, 7):
            session.add(FeedSubscription(guild_id=GUILD, channel_id=channel, feed_id=feed.id, created_by=ACTOR))
        for url, key in (("https://g0v.example/cal.ics", "g0v"), ("https://ro.example/cal.ics", "code4romania")):
            session.add(Calendar(guild_id=GUILD, url=url, chapter_key=key, next_poll_at=START, created_by=ACTOR))
        for channel, key in ((announcements, "mine"), (7, "elsewhere")):
            await enqueue(
                session,
                kind="test",
                key=key,
                guild_id=GUILD,
                channel_id=channel,
                payload=Payload(content="later"),
                due_at=START + timedelta(days=1),
            )
    plan = await world.plan()
    assert actions(plan)[:3] == [
        (STOP_FEED, "https://g0v.example/feed"),
        (STOP_CALENDAR, "https://g0v.example/cal.ics"),
        (CANCEL_POSTS, ""),
    ]
    outcome = await world.run()
    assert outcome.ok and outcome.cancelled == 1
    async with world.sessions() as session:
        subscriptions = [s.channel_id for s in await session.scalars(select(FeedSubscription))]
        calendars = [c.chapter_key for c in await session.scalars(select(Calendar))]
        posts = {d.key: d.state for d in await session.scalars(select(Delivery))}
    assert subscriptions == [7] and calendars == ["code4romania"]
    assert posts == {"mine": CANCELLED, "elsewhere": PENDING}


async def test_a_failure_halfway_is_told_and_the_next_run_completes_it(world: World) -> None:
    await world.onboard()
    world.guild.fail_on_archive = 2
    outcome = await world.run()
    assert not outcome.ok and isinstance(outcome.error, PermissionError)
    assert [s.action for s in outcome.done] == [CREATE_ARCHIVE, ARCHIVE_CHANNEL]
    assert [s.name for s in outcome.not_done][:2] == ["channel:general", "channel:projects"]
    assert world.directory.chapters["g0v"].tier == "governing"
    assert "stopped" in (await world.records())[-1].changes

    rest = await world.plan()
    assert actions(rest) == [
        *((ARCHIVE_CHANNEL, name) for name in CHANNELS[1:]),
        (DELETE_CATEGORY, "category"),
        (KEEP_ROLE, "role"),
        (MARK_ALUMNI, "governing"),
    ]
    assert (await world.run()).ok
    assert world.directory.chapters["g0v"].tier == "alumni"
    assert (await world.plan()).nothing_to_do
    assert [r.action for r in await world.records()] == ["offboard", "update", "offboard"]


async def test_what_was_deleted_by_hand_is_only_forgotten(world: World) -> None:
    await world.onboard()
    del world.guild.things[world.guild.named("tw-voice")]
    plan = await world.plan()
    assert (FORGET, "channel:voice") in actions(plan)
    assert (ARCHIVE_CHANNEL, "channel:voice") not in actions(plan)
    assert (await world.run()).ok and (await world.plan()).nothing_to_do


async def test_a_guild_that_never_onboarded_the_chapter_is_told(world: World) -> None:
    with pytest.raises(UserError, match="no space for"):
        await world.plan()


async def test_another_server_proposes_alumni_and_a_read_only_directory_stays(world: World) -> None:
    await world.onboard()
    await world.onboard("code4romania", "ro")
    plan = await world.plan(right=Right.PROPOSE)
    assert plan.steps[-1].action == PROPOSE_ALUMNI
    await world.run(right=Right.PROPOSE)
    async with world.sessions() as session:
        proposals = list(await session.scalars(select(Proposal)))
    assert [(p.entity_key, p.values, p.status) for p in proposals] == [("g0v", {"tier": "alumni"}, "pending")]
    assert world.directory.chapters["g0v"].tier == "governing"
    redo = await world.plan(DELETE, right=Right.PROPOSE)
    assert redo.directory == DIRECTORY_PROPOSED and PROPOSE_ALUMNI not in [s.action for s in redo.steps]

    read_only = await world.plan(key="code4romania", right=None)
    assert read_only.directory == DIRECTORY_READ_ONLY
    assert all(step.action not in (MARK_ALUMNI, PROPOSE_ALUMNI) for step in read_only.steps)


async def test_a_preview_that_no_longer_holds_is_refused(world: World) -> None:
    await world.onboard()
    plan = await world.plan()
    del world.guild.things[world.guild.named("tw-general")]
    with pytest.raises(UserError, match="changed since the preview"):
        await world.service.apply(
            plan,
            world.guild,
            world.directory.chapters["g0v"],
            facts=FACTS,
            right=Right.EDIT,
            actor_id=ACTOR,
            actor_name="mei",
            guild_name="x",
        )
    assert world.guild.named("tw-projects") and world.directory.chapters["g0v"].tier == "governing"


async def test_refusals_name_what_the_bot_lacks(world: World) -> None:
    await world.onboard()
    plan = await world.plan()
    assert refusals(plan, FACTS) == []
    weak = GuildFacts(bot_permissions=frozenset({"view_channel"}), bot_top_role_position=10)
    assert [p.params.get("permission") for p in refusals(plan, weak)] == ["Manage Roles", "Manage Channels"]
    mute = await world.service.plan(
        world.guild,
        GUILD,
        world.directory.chapters["g0v"],
        ARCHIVE,
        keep_role=True,
        facts=GuildFacts(frozenset({"manage_roles", "manage_channels"}), 10),
        right=Right.EDIT,
    )
    assert mute.cannot_deny == READ_ONLY
    assert [p.message for p in refusals(mute, FACTS)] == [
        "I cannot make channels read-only: I need the Send Messages permission myself."
    ]
    assert plan.role_id is not None
    above = GuildFacts(FACTS.bot_permissions, 10, role_positions={plan.role_id: 10})
    assert [p.message for p in refusals(plan, above)] == [
        "The partner's role is above my highest role: move my role above it, then try again."
    ]
    admin = GuildFacts(frozenset(), 10, administrator=True)
    assert refusals(plan, admin) == []
