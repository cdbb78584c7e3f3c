"""Events on Discord: the event card with its buttons (which survive restarts), list pages, the organiser form."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import AppCommandOptionType, app_commands

from bot.delivery.errors import PermanentDeliveryError
from bot.errors import NotFound, UserError
from bot.errors.reporting import report_error
from bot.i18n import N_, Localeish, t
from bot.summits import render
from bot.summits.calendars import Followed
from bot.summits.events import MAX_DESCRIPTION, MAX_LOCATION, MAX_NAME, MAX_URL, EventDraft, EventInfo
from bot.summits.service import EventService
from bot.text import truncate, well_formed
from bot.types import Interaction
from bot.ui.base import claim
from bot.ui.checks import require_organiser
from bot.ui.forms import Form, FormField
from bot.ui.pages import Listing
from bot.ui.transformers import CHOICE_LIMIT, QUERY_LIMIT

CLOSED_DMS = 50007
NAME = FormField("name", N_("Name"), MAX_NAME, required=True)
PLACE = FormField("place", N_("Place: city and venue, or the online link"), MAX_URL, required=True)
LINK = FormField("link", N_("Web page (optional)"), MAX_URL)
DESCRIPTION = FormField("description", N_("Description"), MAX_DESCRIPTION, paragraph=True)
assert MAX_LOCATION <= MAX_URL


def event_line(event: EventInfo, locale: Localeish) -> str:
    """One line of a list: number, name, when (in the reader's zone), where."""
    name = discord.utils.escape_markdown(event.name)
    when = f"<t:{int(event.starts_at.timestamp())}:f>" if event.starts_at else str(event.year or "")
    line = f"**{event.id}** · {name} · {when} · {discord.utils.escape_markdown(render.place(event, locale))}"
    if event.status == "cancelled":
        line += " · " + t(locale, "cancelled")
    return line


def events_listing(
    service: EventService, guild_id: int, past: bool, chapter_key: str | None, locale: Localeish
) -> Listing:
    """Upcoming events (or the archive) of this server and the network."""
    if past:
        found = service.past(guild_id, chapter_key=chapter_key)
        return Listing(t(locale, "Past events"), [event_line(e, locale) for e in found], t(locale, "No past events."))
    found = service.upcoming(guild_id, chapter_key=chapter_key)
    empty = t(locale, "No event is coming up. `/summits list past: True` shows the archive.")
    return Listing(t(locale, "Coming up"), [event_line(e, locale) for e in found], empty)


def calendar_line(calendar: Followed, locale: Localeish) -> str:
    """One line of `/summits calendars`: number, address, chapter, health."""
    if calendar.disabled:
        health = t(
            locale, "stopped after {count} failures: {error}", count=calendar.failures, error=calendar.error or ""
        )
    elif calendar.failures:
        health = t(locale, "failing ({count} times): {error}", count=calendar.failures, error=calendar.error or "")
    elif calendar.last_success_at is not None:
        health = t(locale, "read {when}", when=f"<t:{int(calendar.last_success_at.timestamp())}:R>")
    else:
        health = t(locale, "not read yet")
    chapter = f" · {calendar.chapter_key}" if calendar.chapter_key else ""
    return f"**{calendar.id}** · <{calendar.url}>{chapter} · {health}"


def event_card(event: EventInfo, now_state: str, locale: Localeish) -> dict[str, Any]:
    """The message showing one event: its embed, and the calendar and reminder buttons while it is coming up."""
    embed = discord.Embed.from_dict(render.embed(event, locale))
    if now_state == "cancelled":
        embed.set_footer(text=t(locale, "Cancelled"))
    view = discord.ui.View(timeout=None)
    if event.starts_at is not None:
        view.add_item(EventButton("ics", event.id, t(locale, "Add to my calendar (.ics)")))
    if now_state == "scheduled":
        view.add_item(EventButton("remind", event.id, t(locale, "Remind me")))
    return {"embed": embed, "view": view, "allowed_mentions": discord.AllowedMentions.none()}


EventAction = Callable[[Interaction, EventInfo], Awaitable[None]]


async def send_calendar(interaction: Interaction, event: EventInfo) -> None:
    """Attach the event as an .ics file the member's calendar can import, privately."""
    data = interaction.client.app.events.ics([event], name=event.name)
    await interaction.response.send_message(
        t(interaction.locale, "Open the file to add {name} to your calendar.", name=event.name),
        file=discord.File(io.BytesIO(data), filename=f"event-{event.id}.ics"),
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )


async def remind(interaction: Interaction, event: EventInfo) -> None:
    """Check the member's DMs are open with a first message, then remember them (told at once when closed)."""
    events = interaction.client.app.events
    locale = interaction.locale
    stop = discord.ui.View(timeout=None)
    stop.add_item(EventButton("forget", event.id, t(locale, "Stop reminding me")))
    if await events.follows(event.id, interaction.user.id):
        await _answer(interaction, t(locale, "I will already remind you of {name}.", name=event.name), stop)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    confirmation = t(
        locale,
        "I will remind you here an hour before **{name}** starts ({when}).",
        name=discord.utils.escape_markdown(event.name),
        when=render.stamp(event),
    )
    try:
        channel_id = await interaction.client.sender.post_direct(interaction.user, confirmation)
    except PermanentDeliveryError as error:
        if error.code != CLOSED_DMS:
            raise
        closed = N_(
            "I cannot send you direct messages, so I cannot remind you. Allow direct messages from this "
            "server's members (Privacy Settings), then press Remind me again."
        )
        await _answer(interaction, t(locale, closed))
        return
    await events.follow(
        interaction.guild.id if interaction.guild else 0, event.id, interaction.user.id, channel_id, str(locale)
    )
    text = t(locale, "Done: I will send you a direct message an hour before {name} starts.", name=event.name)
    await _answer(interaction, text, stop)


async def forget(interaction: Interaction, event: EventInfo) -> None:
    """Undo "Remind me"."""
    if await interaction.client.app.events.unfollow(event.id, interaction.user.id):
        text = t(interaction.locale, "I will not remind you of {name}.", name=event.name)
    else:
        text = t(interaction.locale, "You had not asked me to remind you of {name}.", name=event.name)
    await _answer(interaction, text)


ACTIONS: dict[str, tuple[EventAction, discord.ButtonStyle]] = {
    "ics": (send_calendar, discord.ButtonStyle.secondary),
    "remind": (remind, discord.ButtonStyle.primary),
    "forget": (forget, discord.ButtonStyle.danger),
}


class EventButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ev:(?P<action>ics|remind|forget):(?P<id>\d{1,12})"
):
    """A button about one event (calendar file, remind me, stop reminding me), rebuilt from its id after a restart."""

    def __init__(self, action: str, event_id: int, label: str = "") -> None:
        self.action, self.event_id = action, event_id
        style = ACTIONS[action][1]
        super().__init__(discord.ui.Button(label=label or action, style=style, custom_id=f"ev:{action}:{event_id}"))

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> EventButton:
        """The same button for the same event, claiming the interaction for it."""
        button = cls(match["action"], int(match["id"]), getattr(item, "label", None) or "")
        claim(interaction)
        return button

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Run the action; every error reaches the one reporter."""
        try:
            if interaction.guild is None:
                raise UserError(N_("Use this in a server."))
            event = interaction.client.app.events.get(interaction.guild.id, self.event_id)
            await ACTIONS[self.action][0](interaction, event)
        except Exception as error:
            await report_error(interaction, error, f"event button {self.action}")


async def _answer(interaction: Interaction, text: str, view: discord.ui.View | None = None) -> None:
    none = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, view=view or discord.utils.MISSING, allowed_mentions=none)
    else:
        await interaction.response.send_message(
            text, ephemeral=True, view=view or discord.utils.MISSING, allowed_mentions=none
        )


def event_form(
    opened: Interaction, draft: EventDraft, done: Callable[[Interaction, EventDraft], Awaitable[None]]
) -> Form:
    """The modal for an event's name, place, link and description; only its organiser, while an organiser."""

    async def save(interaction: Interaction, typed: dict[str, str]) -> None:
        await done(interaction, draft.with_text(typed["name"], typed["place"], typed["link"], typed["description"]))

    place = draft.location or draft.url
    link = draft.url if draft.location else None
    fields = [(NAME, draft.name or None), (PLACE, place), (LINK, link), (DESCRIPTION, draft.description or None)]
    return Form(opened, t(opened.locale, "Event"), fields, save, authorise=require_organiser)


def draft_preview(draft: EventDraft, locale: Localeish) -> tuple[str, discord.Embed]:
    """What an organiser is about to save: the times as typed and as Discord shows them, and the card."""
    start, end = int(draft.starts_at.timestamp()), int(draft.ends_at.timestamp())
    text = t(
        locale,
        "Preview: {start} to {end} ({local_start} to {local_end} {zone}). Confirm to save it.",
        start=f"<t:{start}:F>",
        end=f"<t:{end}:F>",
        local_start=draft.local_start,
        local_end=draft.local_end,
        zone=draft.zone,
    )
    info = EventInfo(
        id=draft.event_id or 0,
        guild_id=draft.guild_id,
        origin="",
        name=draft.name,
        chapter_keys=(draft.chapter_key,) if draft.chapter_key else (),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        zone=draft.zone,
        all_day=False,
        year=draft.starts_at.year,
        city=None,
        country=None,
        location=draft.location,
        url=draft.url,
        description=draft.description,
        status="scheduled",
        version=0,
        sequence=0,
        updated_at=draft.starts_at,
    )
    return text, discord.Embed.from_dict(render.embed(info, locale))


class EventOption(app_commands.Transformer):
    """An event of this server or the network, autocompleted by name, given by number or name."""

    @property
    def type(self) -> AppCommandOptionType:
        """Typed as text."""
        return AppCommandOptionType.string

    @property
    def max_value(self) -> int:
        """At most as long as a choice value."""
        return CHOICE_LIMIT

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        """Up to 25 events whose name holds what is typed, upcoming first."""
        if interaction.guild is None:
            return []
        found = interaction.client.app.events.complete(interaction.guild.id, well_formed(value[:QUERY_LIMIT]))
        return [app_commands.Choice(name=truncate(_choice_name(e), CHOICE_LIMIT), value=str(e.id)) for e in found]

    async def transform(self, interaction: Interaction, value: str, /) -> EventInfo:  # type: ignore[override]
        """The event by number, else the one whose name is closest."""
        if interaction.guild is None:
            raise UserError(N_("Use this in a server."))
        events = interaction.client.app.events
        typed = well_formed(value).strip()
        if typed.isdigit() and len(typed) < 12:
            return events.get(interaction.guild.id, int(typed))
        found = events.complete(interaction.guild.id, typed)
        if not found:
            raise NotFound(N_("event"), typed, hint=N_("`/summits list` shows what is coming up."))
        return found[0]


def _choice_name(event: EventInfo) -> str:
    when = event.starts_at.strftime("%Y-%m-%d") if event.starts_at else str(event.year or "")
    return f"{event.name} · {when}"
