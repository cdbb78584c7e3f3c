"""Carry a partner plan out through a port to Discord: what exists by stored id is kept, what is missing is
created and stored at once, and a failure rolls back what this run created."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from bot.guilds.resources import GuildResources
from bot.onboarding.extras import StepResult
from bot.onboarding.plan import ChannelPlan, Overwrite, PartnerPlan

log = logging.getLogger(__name__)

ROLE = "role"
CATEGORY = "category"


class GuildPort(Protocol):
    """What onboarding needs from Discord, for one guild."""

    async def exists(self, kind: str, discord_id: int) -> bool:
        """Whether the object is still there."""
        ...

    async def create_role(self, name: str, colour: int) -> int:
        """A role with no permissions of its own, not mentionable, below the bot's."""
        ...

    async def create_category(self, name: str, overwrites: tuple[Overwrite, ...], role_id: int) -> int:
        """A category with its overwrites (`partner` meaning `role_id`)."""
        ...

    async def create_channel(self, channel: ChannelPlan, category_id: int, role_id: int) -> int:
        """A channel in the category with its overwrites."""
        ...

    async def add_role(self, member_id: int, role_id: int) -> None:
        """Give a member the partner role."""
        ...

    async def delete(self, kind: str, discord_id: int) -> None:
        """Remove an object this run created."""
        ...


def owner_of(plan: PartnerPlan) -> str:
    """The owner under which a partner's objects are stored."""
    return f"partner:{plan.chapter_key}"


def channel_name(channel: ChannelPlan) -> str:
    """The stored name of a planned channel."""
    return f"channel:{channel.key}"


@dataclass(slots=True)
class Survey:
    """Which planned objects already exist (by stored id) and which would be created."""

    present: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Outcome:
    """What a run did."""

    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    error: Exception | None = None
    rolled_back: list[str] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    extras: list[StepResult] = field(default_factory=list)  # the steps around the space, once it is in place

    @property
    def ok(self) -> bool:
        """Whether the whole plan is in place."""
        return self.error is None


def _planned(plan: PartnerPlan) -> list[tuple[str, str]]:
    return [(ROLE, ROLE), (CATEGORY, CATEGORY), *((channel_name(c), "channel") for c in plan.channels)]


async def survey(plan: PartnerPlan, port: GuildPort, resources: GuildResources, guild_id: int) -> Survey:
    """What of the plan exists already, for the preview."""
    stored = await resources.of(guild_id, owner_of(plan))
    result = Survey()
    for name, kind in _planned(plan):
        found = stored.get(name)
        if found is not None and await port.exists(kind, found[1]):
            result.present[name] = found[1]
        else:
            result.missing.append(name)
    return result


async def apply_plan(plan: PartnerPlan, port: GuildPort, resources: GuildResources, guild_id: int) -> Outcome:
    """Create what is missing, keep what exists, give the representatives the role; roll back on failure."""
    owner = owner_of(plan)
    found = await survey(plan, port, resources, guild_id)
    outcome = Outcome()
    made: list[tuple[str, str, int]] = []

    async def ensure(name: str, kind: str, create: Callable[[], Awaitable[int]]) -> int:
        if name in found.present:
            outcome.kept.append(name)
            return found.present[name]
        discord_id = await create()
        made.append((name, kind, discord_id))
        await resources.remember(guild_id, owner, name, kind, discord_id)
        outcome.created.append(name)
        return discord_id

    try:
        role_id = await ensure(ROLE, ROLE, lambda: port.create_role(plan.role_name, plan.role_colour))
        category_id = await ensure(
            CATEGORY, CATEGORY, lambda: port.create_category(plan.category_name, plan.category_overwrites, role_id)
        )
        for channel in plan.channels:
            await ensure(channel_name(channel), "channel", partial(port.create_channel, channel, category_id, role_id))
        for member_id in plan.representatives:
            await port.add_role(member_id, role_id)
            outcome.members.append(member_id)
    except Exception as error:
        outcome.error = error
        for name, kind, discord_id in reversed(made):
            try:
                await port.delete(kind, discord_id)
            except Exception:
                log.warning("could not roll back %s %s of %s in guild %s", kind, discord_id, owner, guild_id)
                outcome.left_behind.append(name)  # still stored: the next run finds and keeps it
            else:
                await resources.forget(guild_id, owner, name)
                outcome.rolled_back.append(name)
        outcome.created = [name for name in outcome.created if name not in outcome.rolled_back]
    return outcome
