"""What an event is to the bot, and the checks on what an organiser types for one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.errors import UserError
from bot.i18n import N_
from bot.text import storable
from bot.times import local_text, parse_local, zone

SCHEDULED, CANCELLED, PAST = "scheduled", "cancelled", "past"
NETWORK = 0  # the guild id of the network's own events (the directory's summits), shown in every server
MAX_NAME = 100
MAX_LOCATION = 100
MAX_DESCRIPTION = 1000
MAX_URL = 500
MAX_LENGTH = timedelta(days=31)
DEFAULT_LENGTH = timedelta(hours=2)
AHEAD = timedelta(days=3 * 366)
TOO_FAR = N_("Events can be planned at most three years ahead.")


@dataclass(frozen=True, slots=True)
class EventInfo:
    """An event as members see it; `guild_id` 0 for the network's own (shown in every server)."""

    id: int
    guild_id: int
    origin: str
    name: str
    chapter_keys: tuple[str, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    zone: str
    all_day: bool
    year: int | None
    city: str | None
    country: str | None
    location: str | None
    url: str | None
    description: str
    status: str
    version: int
    sequence: int
    updated_at: datetime

    def state(self, now: datetime) -> str:
        """Scheduled, cancelled, or past once it has ended (or when only its year is known)."""
        if self.status == CANCELLED:
            return CANCELLED
        if self.ends_at is None or self.ends_at <= now:
            return PAST
        return SCHEDULED

    @property
    def local_start(self) -> str | None:
        """The start as written, in the event's own zone."""
        return local_text(self.starts_at, self.zone) if self.starts_at else None

    @property
    def local_end(self) -> str | None:
        """The end as written, in the event's own zone."""
        return local_text(self.ends_at, self.zone) if self.ends_at else None

    @property
    def online(self) -> bool:
        """Whether it happens online (its place is a link)."""
        return self.location is None and self.url is not None and self.city is None


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event as an organiser typed it, checked; `event_id` and `version` set when editing one."""

    guild_id: int
    author_id: int
    zone: str
    starts_at: datetime
    ends_at: datetime
    chapter_key: str | None = None
    name: str = ""
    location: str | None = None
    url: str | None = None
    description: str = ""
    event_id: int | None = None
    version: int | None = None

    @property
    def local_start(self) -> str:
        """The start as typed, in the draft's zone."""
        return local_text(self.starts_at, self.zone)

    @property
    def local_end(self) -> str:
        """The end as typed, in the draft's zone."""
        return local_text(self.ends_at, self.zone)

    def with_text(self, name: str, place: str, link: str, description: str) -> EventDraft:
        """The draft with what the form holds: a name, a place (a city or an online link), a link, a text."""
        name, place, link = (" ".join(storable(name).split()), storable(place).strip(), storable(link).strip())
        description = storable(description, multiline=True).strip()
        if not name:
            raise UserError(N_("An event needs a name."))
        if len(name) > MAX_NAME:
            raise UserError(N_("The name has at most {limit} characters."), limit=MAX_NAME)
        if len(description) > MAX_DESCRIPTION:
            raise UserError(N_("The description has at most {limit} characters."), limit=MAX_DESCRIPTION)
        url = checked_url(link) if link else None
        location: str | None = place or None
        if place and _is_url(place):
            url, location = url or checked_url(place), None
        elif len(place) > MAX_LOCATION:
            raise UserError(N_("The place has at most {limit} characters."), limit=MAX_LOCATION)
        if location is None and url is None:
            raise UserError(N_("Say where it happens: a city and venue, or the link of an online meeting."))
        return replace(self, name=name, location=location, url=url, description=description)


def draft_times(
    start: str, end: str | None, zone_name: str, now: datetime, *, length: timedelta = DEFAULT_LENGTH
) -> tuple[str, datetime, datetime]:
    """The zone's name and the UTC start and end of local times typed in it (end: `length` after the start)."""
    tz = zone(zone_name)
    starts_at = parse_local(start, tz.key, now, ahead=AHEAD, too_far=TOO_FAR)
    ends_at = parse_local(end, tz.key, now, ahead=AHEAD + MAX_LENGTH, too_far=TOO_FAR) if end else starts_at + length
    if ends_at <= starts_at:
        raise UserError(N_("The end must come after the start."))
    if ends_at - starts_at > MAX_LENGTH:
        raise UserError(N_("An event lasts at most {days} days."), days=MAX_LENGTH.days)
    return tz.key, starts_at, ends_at


def checked_url(text: str) -> str:
    """An http(s) link of reasonable length, or a UserError."""
    if len(text) > MAX_URL or not _is_url(text):
        raise UserError(N_("“{url}” is not a web link (http:// or https://)."), url=text[:100])
    return text


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in text)
