"""Discord Guild Scheduled Events kept in step with a guild's upcoming events: one each, never duplicated.

The link from an event to its Discord event is a guild resource stored the moment Discord answers; a Discord
event the bot made but never linked (the process died in between) is adopted by its name and start rather
than made again. Discord holds at most 100 scheduled events per guild, so the nearest events are published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.guilds.resources import GuildResources
from bot.summits import render
from bot.summits.events import EventInfo
from bot.summits.service import EventService
from bot.text import truncate

MAX_PER_GUILD = 100
KIND = "scheduled_event"
NAME = "scheduled-event"
MAX_DESCRIPTION = 1000


@dataclass(frozen=True, slots=True)
class Listing:
    """What Discord shows of an event: an external event with a place, a start and an end."""

    name: str
    description: str
    location: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Published:
    """A scheduled event in the guild: whether the bot made it, and whether it is still scheduled or live."""

    id: int
    listing: Listing
    mine: bool
    open: bool


class GuildEventsPort(Protocol):
    """One guild's scheduled events on Discord."""

    async def published(self) -> list[Published]:
        """Every scheduled event in the guild."""
        ...

    async def create(self, listing: Listing) -> int:
        """Make an external event; its id."""
        ...

    async def update(self, event_id: int, listing: Listing) -> None:
        """Change an event to match the listing."""
        ...

    async def cancel(self, event_id: int) -> None:
        """Call an event off (members see it cancelled)."""
        ...

    async def remove(self, event_id: int) -> None:
        """Take an event away (it is over, or no longer among the nearest)."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reconciliation did."""

    created: int = 0
    updated: int = 0
    cancelled: int = 0
    removed: int = 0
    adopted: int = 0


def listing(event: EventInfo) -> Listing:
    """The Discord event for one of ours."""
    assert event.starts_at is not None and event.ends_at is not None
    return Listing(
        name=truncate(event.name, 100),
        description=truncate(event.description, MAX_DESCRIPTION),
        location=truncate(render.place(event, None) if not event.online else event.url or "", 100),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
    )


def owner(event_id: int) -> str:
    """The guild-resource owner of an event's Discord event."""
    return f"event:{event_id}"


async def reconcile(guild_id: int, port: GuildEventsPort, events: EventService, resources: GuildResources) -> Outcome:
    """Publish the nearest upcoming events, fix what changed, call off what was cancelled, drop the rest."""
    now = events.now()
    upcoming = events.upcoming(guild_id)
    published = {item.id: item for item in await port.published()}
    links = await resources.of_kind(guild_id, KIND)
    others = sum(1 for item in published.values() if item.open and not item.mine)
    room = max(MAX_PER_GUILD - others, 0)
    wanted: dict[str, EventInfo] = {}
    for event in upcoming:
        assert event.starts_at is not None
        linked = links.get(owner(event.id))
        if event.starts_at > now or (linked is not None and linked in published):
            wanted[owner(event.id)] = event
        if len(wanted) >= room:
            break
    created = updated = cancelled = removed = adopted = 0
    linked_ids = set(links.values())
    for key, event in wanted.items():
        want = listing(event)
        linked = links.get(key)
        current = published.get(linked) if linked is not None else None
        if current is not None and current.open:
            if current.listing != want:
                await port.update(current.id, want)
                updated += 1
            continue
        if event.starts_at is None or event.starts_at <= now:
            continue  # Discord refuses a start in the past
        stray = next(
            (
                item
                for item in published.values()
                if item.mine and item.open and item.id not in linked_ids and _same(item.listing, want)
            ),
            None,
        )
        if stray is not None:
            discord_id = stray.id
            adopted += 1
        else:
            discord_id = await port.create(want)
            created += 1
        await resources.remember(guild_id, key, NAME, KIND, discord_id)
        linked_ids.add(discord_id)
    for key, discord_id in links.items():
        if key in wanted:
            continue
        current = published.get(discord_id)
        if current is not None and current.open:
            if events.is_cancelled(int(key.split(":")[1])):
                await port.cancel(discord_id)
                cancelled += 1
            else:
                await port.remove(discord_id)
                removed += 1
        await resources.forget(guild_id, key, NAME)
    return Outcome(created, updated, cancelled, removed, adopted)


def _same(found: Listing, want: Listing) -> bool:
    return found.name == want.name and found.starts_at == want.starts_at
