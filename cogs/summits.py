"""Summits and events: what is coming up, one event's card, and the organisers' add, edit and cancel."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.directory.service import ChapterInfo
from bot.errors import UserError
from bot.i18n import N_, t, tn
from bot.summits.events import NETWORK, EventDraft, EventInfo, draft_times
from bot.types import Interaction
from bot.ui.announcements import zone_choices
from bot.ui.checks import organiser_only, require_organiser
from bot.ui.confirm import Choice, Decision
from bot.ui.discord_events import EventPublisher
from bot.ui.pages import page_view, register_source
from bot.ui.summits import (
    EventButton,
    EventOption,
    calendar_line,
    draft_preview,
    event_card,
    event_form,
    events_listing,
)
from bot.ui.transformers import ChapterTransformer

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

EVENTS = "ev"
RESYNC_JOB = "scheduled-events-resync"
RESYNC_SECONDS = 900.0
Chapter = app_commands.Transform[ChapterInfo, ChapterTransformer]
Event = app_commands.Transform[EventInfo, EventOption]
NO_CHANNEL = N_(
    "This server has no events channel, so no reminder will be posted: choose one with `/settings events-channel`."
)


class Summits(commands.Cog):
    """Summits, hackathons and meetups of the network and this server."""

    summits = app_commands.Group(
        name="summits", description="Summits and events: list, add, edit, cancel", guild_only=True
    )

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot
        self.events = bot.app.events
        self.publisher = EventPublisher(bot)

    async def cog_load(self) -> None:
        """Register the list pages and the event buttons (which work across restarts); keep scheduled events."""
        self.publisher.start()
        self.events.subscribe(self.publisher.mark)
        self.bot.scheduler.every(RESYNC_JOB, RESYNC_SECONDS, self._resync, leader_only=False)
        register_source(
            EVENTS,
            lambda client, args, locale: events_listing(
                client.app.events, int(args.get("g", "0")), args.get("p") == "1", args.get("c"), locale
            ),
        )
        self.bot.add_dynamic_items(EventButton)

    async def cog_unload(self) -> None:
        """Stop keeping scheduled events."""
        await self.publisher.stop()

    async def _resync(self) -> None:
        self.publisher.mark(NETWORK)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """After every (re)connection: every guild's scheduled events, in case they changed meanwhile."""
        self.publisher.mark(NETWORK)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        """An auto-sharded bot fires on_ready once; a shard that connects again brings only its own guilds."""
        for guild in self.bot.guilds:
            if guild.shard_id == shard_id:
                self.publisher.mark(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A new guild gets its events."""
        self.publisher.mark(guild.id)

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        """Someone deleted an event by hand: put it back if ours still stands."""
        self.publisher.mark(event.guild_id)

    @app_commands.command(name="summit", description="Show a summit or event, with its times in your time zone")
    @app_commands.describe(name="The event's name")
    @app_commands.guild_only()
    async def summit(self, interaction: Interaction, name: Event) -> None:
        """One event's card."""
        state = name.state(self.bot.app.clock.now())
        await interaction.response.send_message(**event_card(name, state, interaction.locale))

    @summits.command(name="list", description="Summits and events coming up (or past ones)")
    @app_commands.describe(past="Show the archive instead", chapter="Only this chapter's events")
    async def listing(self, interaction: Interaction, past: bool = False, chapter: Chapter | None = None) -> None:
        """Upcoming first; the archive most recent first."""
        assert interaction.guild is not None
        args = {"g": str(interaction.guild.id), "p": "1" if past else "", "c": chapter.key if chapter else ""}
        args = {k: v for k, v in args.items() if v}
        listing = events_listing(
            self.events, interaction.guild.id, past, chapter.key if chapter else None, interaction.locale
        )
        embed, view = page_view(EVENTS, args, listing, 0, interaction.locale)
        await interaction.response.send_message(embed=embed, view=view)

    @summits.command(name="ics", description="Download the events coming up as a calendar file")
    async def ics(self, interaction: Interaction) -> None:
        """Every upcoming event of this server and the network, in one .ics."""
        assert interaction.guild is not None
        upcoming = self.events.upcoming(interaction.guild.id)
        data = self.events.ics(
            upcoming, name=t(interaction.locale, "Events of {server}", server=interaction.guild.name)
        )
        await interaction.response.send_message(
            tn(
                interaction.locale,
                "{count} event: open the file, or import it into your calendar.",
                "{count} events: open the file, or import it into your calendar.",
                len(upcoming),
                count=len(upcoming),
            )
            + self._subscribe_hint(interaction),
            file=discord.File(io.BytesIO(data), filename="events.ics"),
            ephemeral=True,
        )

    def _subscribe_hint(self, interaction: Interaction) -> str:
        """Where calendar apps can follow this server's events, when the web server is published."""
        base = self.bot.settings.web_public_url
        if base is None or interaction.guild is None:
            return ""
        url = f"{base}/calendars/{interaction.guild.id}.ics"
        return "\n" + t(interaction.locale, "To stay in step, subscribe your calendar app to {url}", url=url)

    @summits.command(name="add", description="Organisers: add an event, then preview and confirm it")
    @app_commands.describe(
        start="Local start, YYYY-MM-DD HH:MM",
        timezone="Time zone of those times, e.g. Europe/Warsaw; empty: this server's",
        end="Local end, YYYY-MM-DD HH:MM; empty: two hours after the start",
        chapter="The chapter that organises it",
    )
    @app_commands.autocomplete(timezone=zone_choices)
    @organiser_only()
    async def add(
        self,
        interaction: Interaction,
        start: app_commands.Range[str, 1, 40],
        timezone: app_commands.Range[str, 1, 64] | None = None,
        end: app_commands.Range[str, 1, 40] | None = None,
        chapter: Chapter | None = None,
    ) -> None:
        """Check the times, then open the form."""
        assert interaction.guild is not None
        config = await self.bot.guild_settings.get(interaction.guild.id)
        zone, starts_at, ends_at = draft_times(
            start, end, timezone or config.timezone or "UTC", self.bot.app.clock.now()
        )
        draft = EventDraft(
            interaction.guild.id,
            interaction.user.id,
            zone,
            starts_at,
            ends_at,
            chapter_key=chapter.key if chapter else None,
        )
        await interaction.response.send_modal(event_form(interaction, draft, self._preview_add))

    async def _preview_add(self, interaction: Interaction, draft: EventDraft) -> None:
        async def confirm(pressed: Interaction) -> str:
            event = await self.events.add(draft)
            config = await self.bot.guild_settings.get(draft.guild_id)
            text = t(pressed.locale, "Saved event {number}: {name}.", number=event.id, name=event.name)
            if config.events_channel_id is None:
                text += "\n" + t(pressed.locale, NO_CHANNEL)
            return text

        await self._ask(interaction, draft, confirm)

    @summits.command(name="edit", description="Organisers: change an event of this server")
    @app_commands.describe(
        event="The event",
        start="New local start, YYYY-MM-DD HH:MM; empty: unchanged",
        timezone="Time zone of the times; empty: the event's",
        end="New local end; empty: the same length as before",
    )
    @app_commands.autocomplete(timezone=zone_choices)
    @organiser_only()
    async def edit(
        self,
        interaction: Interaction,
        event: Event,
        start: app_commands.Range[str, 1, 40] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        end: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        """Open the form filled with the event, with the new times if given."""
        assert interaction.guild is not None
        original = self._own(interaction, event)
        assert original.starts_at is not None and original.ends_at is not None
        zone_name = timezone or original.zone
        if start or end or timezone:
            zone, starts_at, ends_at = draft_times(
                start or original.local_start or "",
                end or (None if start else original.local_end),
                zone_name,
                self.bot.app.clock.now(),
                length=original.ends_at - original.starts_at,
            )
        else:
            zone, starts_at, ends_at = original.zone, original.starts_at, original.ends_at
        draft = EventDraft(
            interaction.guild.id,
            interaction.user.id,
            zone,
            starts_at,
            ends_at,
            name=original.name,
            location=original.location,
            url=original.url,
            description=original.description,
            event_id=original.id,
            version=original.version,
        )

        async def preview(submitted: Interaction, written: EventDraft) -> None:
            async def confirm(pressed: Interaction) -> str:
                saved = await self.events.edit(written)
                return t(pressed.locale, "Saved event {number}: {name}.", number=saved.id, name=saved.name)

            await self._ask(submitted, written, confirm)

        await interaction.response.send_modal(event_form(interaction, draft, preview))

    @summits.command(name="cancel", description="Organisers: call off an event of this server")
    @app_commands.describe(event="The event")
    @organiser_only()
    async def cancel(self, interaction: Interaction, event: Event) -> None:
        """Preview the cancellation; Confirm drops its reminders and posts one notice."""
        own = self._own(interaction, event)

        async def confirm(pressed: Interaction) -> str:
            gone = await self.events.cancel(own.guild_id, own.id)
            return t(pressed.locale, "Cancelled {name}. One notice goes out; no reminder will.", name=gone.name)

        async def keep(pressed: Interaction) -> str:
            return t(pressed.locale, "Nothing was changed.")

        choices = [
            Choice(N_("Cancel the event"), discord.ButtonStyle.danger, confirm),
            Choice(N_("Keep it"), discord.ButtonStyle.secondary, keep),
        ]
        view = Decision(interaction, choices, authorise=require_organiser)
        card = event_card(own, own.state(self.bot.app.clock.now()), interaction.locale)
        await interaction.response.send_message(
            t(interaction.locale, "Call off {name}? Members who follow it are told once.", name=own.name),
            embed=card["embed"],
            view=view,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @summits.command(name="subscribe", description="Organisers: follow a chapter's iCalendar feed")
    @app_commands.describe(url="The calendar's address (.ics)", chapter="The chapter whose calendar it is")
    @organiser_only()
    async def subscribe(
        self, interaction: Interaction, url: app_commands.Range[str, 1, 2000], chapter: Chapter | None = None
    ) -> None:
        """Read the calendar once now; its events join this server's, announced from its next change on."""
        assert interaction.guild is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        followed, changes = await self.bot.app.calendars.subscribe(
            interaction.guild.id, url, chapter.key if chapter else None, interaction.user.id
        )
        text = tn(
            interaction.locale,
            "Following calendar {number}: {count} event coming up in the next 90 days was added.",
            "Following calendar {number}: {count} events coming up in the next 90 days were added.",
            changes.added,
            number=followed.id,
            count=changes.added,
        )
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @summits.command(name="calendars", description="Organisers: the calendars this server follows")
    @organiser_only()
    async def calendars(self, interaction: Interaction) -> None:
        """Each calendar with its health."""
        assert interaction.guild is not None
        followed = await self.bot.app.calendars.followed(interaction.guild.id)
        lines = [calendar_line(item, interaction.locale) for item in followed]
        text = "\n".join(lines) or t(
            interaction.locale, "This server follows no calendar: `/summits subscribe` adds one."
        )
        await interaction.response.send_message(
            text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none(), suppress_embeds=True
        )

    @summits.command(name="unsubscribe", description="Organisers: stop following a calendar")
    @app_commands.describe(number="The calendar's number, from /summits calendars")
    @organiser_only()
    async def unsubscribe(self, interaction: Interaction, number: app_commands.Range[int, 1, 2**31 - 1]) -> None:
        """Stop reading it; the events already read stay."""
        assert interaction.guild is not None
        gone = await self.bot.app.calendars.unsubscribe(interaction.guild.id, number)
        await interaction.response.send_message(
            t(interaction.locale, "No longer following {url}. Its events stay until you cancel them.", url=gone.url),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
            suppress_embeds=True,
        )

    def _own(self, interaction: Interaction, event: EventInfo) -> EventInfo:
        """The event, if this server's organisers may change it (network summits belong to the directory)."""
        assert interaction.guild is not None
        if event.guild_id != interaction.guild.id or event.starts_at is None:
            raise UserError(
                N_("{name} is not one of this server's events, so it cannot be changed here."), name=event.name
            )
        return event

    async def _ask(
        self, interaction: Interaction, draft: EventDraft, confirm: Callable[[Interaction], Awaitable[str]]
    ) -> None:
        async def drop(pressed: Interaction) -> str:
            return t(pressed.locale, "Nothing was saved.")

        text, embed = draft_preview(draft, interaction.locale)
        choices = [
            Choice(N_("Confirm"), discord.ButtonStyle.success, confirm),
            Choice(N_("Cancel"), discord.ButtonStyle.secondary, drop),
        ]
        view = Decision(interaction, choices, authorise=require_organiser)
        await interaction.response.send_message(
            text, embed=embed, view=view, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Summits(bot))
