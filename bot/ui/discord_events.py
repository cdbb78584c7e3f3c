"""The summits' port to Discord's Guild Scheduled Events, and the worker that keeps each guild in step.

Changes mark guilds; one task reconciles marked guilds one at a time, so two triggers for a guild (a restart's
on_ready and an edit, say) never race each other into a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord

from bot.guilds.resources import GuildResources
from bot.summits.events import NETWORK
from bot.summits.scheduled import Listing, Outcome, Published, reconcile

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

log = logging.getLogger(__name__)

REASON = "Kept in step with the Code for All network bot's events"
OPEN = (discord.EventStatus.scheduled, discord.EventStatus.active)


class DiscordGuildEvents:
    """A `GuildEventsPort` over one discord.py guild."""

    def __init__(self, guild: discord.Guild) -> None:
        self.guild = guild
        self._found: dict[int, discord.ScheduledEvent] = {}

    async def published(self) -> list[Published]:
        """Every scheduled event in the guild, read from Discord (not the cache)."""
        events = await self.guild.fetch_scheduled_events(with_counts=False)
        self._found = {event.id: event for event in events}
        me = self.guild.me.id
        return [
            Published(
                event.id,
                Listing(
                    event.name,
                    event.description or "",
                    event.location or "",
                    event.start_time,
                    event.end_time or event.start_time,
                ),
                mine=event.creator_id == me,
                open=event.status in OPEN,
            )
            for event in events
        ]

    async def create(self, listing: Listing) -> int:
        """An external event, visible to the guild's members."""
        event = await self.guild.create_scheduled_event(
            name=listing.name,
            description=listing.description or discord.utils.MISSING,
            start_time=listing.starts_at,
            end_time=listing.ends_at,
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            location=listing.location,
            reason=REASON,
        )
        return event.id

    async def update(self, event_id: int, listing: Listing) -> None:
        """Name, description, place and times as the listing says."""
        await self._found[event_id].edit(
            name=listing.name,
            description=listing.description,
            start_time=listing.starts_at,
            end_time=listing.ends_at,
            entity_type=discord.EntityType.external,
            location=listing.location,
            reason=REASON,
        )

    async def cancel(self, event_id: int) -> None:
        """Shown as cancelled to members."""
        await self._found[event_id].cancel(reason=REASON)

    async def remove(self, event_id: int) -> None:
        """Gone from the guild's events."""
        await self._found[event_id].delete(reason=REASON)


class EventPublisher:
    """Reconciles the guilds whose events changed, one guild at a time, in the background."""

    def __init__(self, bot: CodeForAllBot) -> None:
        self._bot = bot
        self._resources = GuildResources(bot.sessions)
        self._marked: set[int] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the worker (inside the event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._work(), name="scheduled-events")

    async def stop(self) -> None:
        """Stop the worker."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def mark(self, guild_id: int) -> None:
        """Reconcile this guild soon (NETWORK: every guild the bot is in)."""
        self._marked.update(g.id for g in self._bot.guilds) if guild_id == NETWORK else self._marked.add(guild_id)
        self._idle.clear()
        self._wake.set()

    async def settled(self) -> None:
        """Wait until every marked guild was reconciled (tests)."""
        await self._idle.wait()

    async def sync(self, guild: discord.Guild) -> Outcome | None:
        """Reconcile one guild now; None when the bot may not manage its events or Discord refused."""
        if not guild.me.guild_permissions.manage_events:
            log.info("guild %s: no Manage Events permission, so its scheduled events are not kept", guild.id)
            return None
        try:
            outcome = await reconcile(guild.id, DiscordGuildEvents(guild), self._bot.app.events, self._resources)
        except discord.HTTPException as error:
            log.warning("guild %s: scheduled events not in step yet: %s", guild.id, error)
            return None
        if outcome != Outcome():
            log.info("guild %s: scheduled events %s", guild.id, outcome)
        return outcome

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._marked:
                guild = self._bot.get_guild(self._marked.pop())
                if guild is not None:
                    try:
                        await self.sync(guild)
                    except Exception:
                        log.exception("guild %s: reconciling scheduled events failed", guild.id)
            if not self._marked:
                self._idle.set()
