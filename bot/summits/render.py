"""The posts of the events feature: new event, reminder, cancellation, and a member's direct reminder."""

from __future__ import annotations

from typing import Any

from bot.delivery.outbox import Payload
from bot.feeds.render import escape_markdown, neutralise
from bot.i18n import N_, Localeish, t
from bot.summits.events import EventInfo
from bot.summits.reminders import Offset
from bot.text import truncate

COLOUR = 0x2F855A
CANCELLED_COLOUR = 0xC53030
EMBED_DESCRIPTION = 1000


def stamp(event: EventInfo, style: str = "F") -> str:
    """The start as a Discord timestamp, which every reader sees in their own zone."""
    assert event.starts_at is not None
    return f"<t:{int(event.starts_at.timestamp())}:{style}>"


def when(event: EventInfo, locale: Localeish) -> str:
    """Start (and end) as Discord timestamps, with the time as written in the event's zone."""
    if event.starts_at is None or event.ends_at is None:
        return str(event.year) if event.year else t(locale, "date unknown")
    end = f"<t:{int(event.ends_at.timestamp())}:{'d' if event.all_day else 't'}>"
    return f"{stamp(event)} – {end} ({stamp(event, 'R')}) · {event.local_start} {event.zone}"


def place(event: EventInfo, locale: Localeish) -> str:
    """Where: the venue or city, or online."""
    if event.location:
        return event.location
    if event.city:
        return f"{event.city}, {event.country}" if event.country else event.city
    return t(locale, "Online")


def embed(event: EventInfo, locale: Localeish, *, heading: str | None = None) -> dict[str, Any]:
    """The event as a Discord embed (plain JSON): name, when, where, link and description."""
    lines = [when(event, locale), place(event, locale)]
    if event.url:
        lines.append(event.url)
    if event.description:
        lines.append("")
        lines.append(truncate(neutralise(event.description), EMBED_DESCRIPTION))
    data: dict[str, Any] = {
        "title": truncate(heading or event.name, 256),
        "description": "\n".join(lines),
        "color": CANCELLED_COLOUR if event.status == "cancelled" else COLOUR,
    }
    if event.url:
        data["url"] = event.url
    return data


def new_event(event: EventInfo, locale: Localeish) -> Payload:
    """The post announcing an event once, when it is added or first found in a calendar."""
    content = t(locale, "New event: **{name}**, {when}.", name=_name(event, locale), when=stamp(event))
    return Payload(content=content, embeds=[embed(event, locale)])


def reminder(event: EventInfo, offset: Offset, locale: Localeish) -> Payload:
    """The reminder in the events channel, `offset` before the start."""
    if offset.days or offset.minutes:
        content = t(locale, "Reminder: **{name}** starts {when}.", name=_name(event, locale), when=stamp(event, "R"))
    else:
        content = t(locale, "**{name}** starts now.", name=_name(event, locale))
    return Payload(content=content, embeds=[embed(event, locale)])


def cancelled(event: EventInfo, locale: Localeish) -> Payload:
    """The one notice that an event will not take place."""
    content = t(
        locale,
        "Cancelled: **{name}**, planned for {when}, will not take place.",
        name=_name(event, locale),
        when=stamp(event),
    )
    return Payload(content=content)


def direct_reminder(event: EventInfo, locale: Localeish) -> Payload:
    """The direct message to a member who asked to be reminded."""
    content = t(
        locale,
        "You asked me to remind you: **{name}** starts {when}.",
        name=_name(event, locale),
        when=stamp(event, "R"),
    )
    return Payload(content=content, embeds=[embed(event, locale)])


DIRECT_REMINDER_BEFORE = Offset(minutes=60)
UNTITLED = N_("(untitled event)")


def _name(event: EventInfo, locale: Localeish) -> str:
    return escape_markdown(neutralise(event.name)) if event.name else t(locale, UNTITLED)
