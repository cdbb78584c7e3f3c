"""Applying a plan: ids stored as objects appear, nothing duplicated on a second run, a failure rolled back."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.guilds.resources import GuildResources
from bot.onboarding.apply import apply_plan, owner_of, survey
from bot.onboarding.plan import ChannelPlan, Overwrite, PartnerPlan, plan_partner

GUILD = 1


class MemoryGuild:
    """A guild's objects in memory, failing the N-th channel creation when asked."""

    def __init__(self, fail_on_channel: int | None = None) -> None:
        self.objects: dict[int, tuple[str, str]] = {}
        self.members: dict[int, set[int]] = {}
        self._ids = itertools.count(100)
        self._channels = 0
        self.fail_on_channel = fail_on_channel

    async def exists(self, kind: str, discord_id: int) -> bool:
        return self.objects.get(discord_id, ("", ""))[0] == kind

    async def create_role(self, name: str, colour: int) -> int:
        return self._add("role", name)

    async def create_category(self, name: str, overwrites: tuple[Overwrite, ...], role_id: int) -> int:
        return self._add("category", name)

    async def create_channel(self, channel: ChannelPlan, category_id: int, role_id: int) -> int:
        self._channels += 1
        if self._channels == self.fail_on_channel:
            raise PermissionError("403 Missing Permissions")
        return self._add("channel", channel.name)

    async def add_role(self, member_id: int, role_id: int) -> None:
        self.members.setdefault(member_id, set()).add(role_id)

    async def delete(self, kind: str, discord_id: int) -> None:
        del self.objects[discord_id]

    def _add(self, kind: str, name: str) -> int:
        discord_id = next(self._ids)
        self.objects[discord_id] = (kind, name)
        return discord_id

    def names(self) -> list[str]:
        return sorted(name for _, name in self.objects.values())


@pytest.fixture
def plan() -> PartnerPlan:
    return plan_partner("code-for-taiwan", "Code for Taiwan", "tw", representatives=[7])


async def test_onboarding_creates_exactly_the_plan_and_twice_creates_nothing(
    sessions: async_sessionmaker[AsyncSession], plan: PartnerPlan
) -> None:
    guild, resources = MemoryGuild(), GuildResources(sessions)
    first = await apply_plan(plan, guild, resources, GUILD)
    assert first.ok and len(first.created) == 6 and first.members == [7]
    assert guild.names() == sorted(["Code for Taiwan", "Code for Taiwan", *(c.name for c in plan.channels)])
    second = await apply_plan(plan, guild, resources, GUILD)
    assert second.ok and second.created == [] and len(second.kept) == 6
    assert len(guild.objects) == 6


async def test_what_was_deleted_by_hand_is_repaired(
    sessions: async_sessionmaker[AsyncSession], plan: PartnerPlan
) -> None:
    guild, resources = MemoryGuild(), GuildResources(sessions)
    await apply_plan(plan, guild, resources, GUILD)
    general = (await resources.of(GUILD, owner_of(plan)))["channel:general"][1]
    del guild.objects[general]
    found = await survey(plan, guild, resources, GUILD)
    assert found.missing == ["channel:general"]
    again = await apply_plan(plan, guild, resources, GUILD)
    assert again.created == ["channel:general"] and len(guild.objects) == 6


async def test_a_failure_halfway_rolls_back_what_the_run_created(
    sessions: async_sessionmaker[AsyncSession], plan: PartnerPlan
) -> None:
    guild, resources = MemoryGuild(fail_on_channel=3), GuildResources(sessions)
    outcome = await apply_plan(plan, guild, resources, GUILD)
    assert not outcome.ok and isinstance(outcome.error, PermissionError)
    assert guild.objects == {} and await resources.of(GUILD, owner_of(plan)) == {}
    assert outcome.created == [] and len(outcome.rolled_back) == 4
    guild.fail_on_channel = None
    assert (await apply_plan(plan, guild, resources, GUILD)).ok and len(guild.objects) == 6


async def test_a_rerun_after_a_failure_keeps_what_existed_before_it(
    sessions: async_sessionmaker[AsyncSession], plan: PartnerPlan
) -> None:
    guild, resources = MemoryGuild(), GuildResources(sessions)
    await apply_plan(plan, guild, resources, GUILD)
    stored = await resources.of(GUILD, owner_of(plan))
    for name in ("channel:projects", "channel:announcements"):
        del guild.objects[stored[name][1]]
    guild.fail_on_channel = guild._channels + 2  # the second re-created channel fails
    outcome = await apply_plan(plan, guild, resources, GUILD)
    assert not outcome.ok and outcome.rolled_back == ["channel:projects"]
    assert len(guild.objects) == 4  # what existed before the run is untouched
