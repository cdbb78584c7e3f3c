"""iCalendar in and out: a calendar read into its occurrences over a window, and the bot's events published as .ics.

Reading applies X-WR-TIMEZONE (x-wr-timezone), then expands RRULE, RDATE, EXDATE and RECURRENCE-ID overrides with
recurring-ical-events. Before the library lists a series, its rules are walked lazily up to the window's end, so a
rule that repeats every second, or has repeated since long ago, is refused after a bounded amount of work instead of
being listed in full. Writing uses icalendar, which escapes text, folds lines and makes the VTIMEZONE components.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock_time
from functools import cache, lru_cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

import icalendar
import recurring_ical_events
import x_wr_timezone
from icalendar.enums import STATUS
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from bot.errors import UserError
from bot.feeds.html import plain_text
from bot.i18n import N_
from bot.text import truncate

log = logging.getLogger(__name__)

MAX_CALENDAR_BYTES = 5 * 1024 * 1024
"""The largest calendar file read."""
WINDOW = timedelta(days=90)
"""How far ahead calendars are expanded."""
TITLE_LIMIT = 100
DESCRIPTION_LIMIT = 1000
LOCATION_LIMIT = 100
DEFAULT_DURATION = timedelta(hours=1)
"""The length of a timed event that gives neither DTEND nor DURATION."""
STEP_BUDGET = 200_000
"""Rule occurrences walked per calendar, from each rule's start to the window's end (about 1 s and 15 MB)."""
EXPANSION_SECONDS = 2.0
"""CPU seconds the walk may take: a rule that matches rarely is slow to walk even when it yields little."""
DEFAULT_PRODID = "-//Code for All//network bot//EN"

NOT_ICALENDAR = N_("That is not an iCalendar (.ics) file.")
NO_CALENDAR = N_("The file holds no calendar (no BEGIN:VCALENDAR … END:VCALENDAR).")
NOT_GREGORIAN = N_("Only calendars in the Gregorian calendar can be read.")
TOO_LARGE = N_("The calendar is larger than {megabytes} MB.")
TOO_MANY = N_("The calendar expands to more than {count} events in the next {days} days.")
TOO_COMPLEX = N_("The calendar's repeating events take too long to work out.")

# The properties the expansion reads: an event with one of them broken is skipped (other broken ones are dropped),
# as is one that repeats a property that may appear once.
_TIME_PROPERTIES = frozenset({"UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"})
_SINGLE_PROPERTIES = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE")
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_OCCURRENCE_FORMAT = "%Y%m%dT%H%M%SZ"
_CHECK_CLOCK_EVERY = 16


class CalendarError(UserError):
    """Calendar data the bot cannot use; the message says why."""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence read from a calendar; `uid` stays the same across fetches."""

    uid: str
    sequence: int
    title: str
    description: str
    location: str
    url: str | None
    starts_at: datetime
    ends_at: datetime
    zone: str
    all_day: bool
    cancelled: bool


@dataclass(frozen=True, slots=True)
class IcsEvent:
    """One event the bot publishes; the datetimes are aware."""

    uid: str
    sequence: int
    title: str
    description: str
    location: str
    url: str | None
    starts_at: datetime
    ends_at: datetime
    zone: str
    cancelled: bool
    updated_at: datetime


def parse_calendar(data: bytes, *, start: datetime, end: datetime, max_events: int = 5000) -> list[CalendarEvent]:
    """The occurrences overlapping [start, end) (aware datetimes), sorted by start.

    All-day events start at midnight in the calendar's zone (its X-WR-TIMEZONE, else UTC), as do floating times.
    Raises CalendarError for data that is not an iCalendar calendar, or that expands to more than `max_events`
    occurrences (or takes too long to expand). Events with broken time fields are skipped.
    """
    calendar = _read(data)
    recurring, removable = _prepare(calendar)
    calendar, zone = _standard(calendar)
    try:
        query = _Query(calendar, skip_bad_series=True)
    except recurring_ical_events.InvalidCalendar:
        raise CalendarError(NOT_GREGORIAN) from None
    days = max(1, round((end - start) / timedelta(days=1)))
    walk = _Walk(start, end, max_events, days)
    events: list[CalendarEvent] = []
    for first, last, component in _occurrences(query, walk, removable):
        event = _event(first, last, component, zone, recurring)
        if event.starts_at < end and (event.ends_at > start or event.starts_at >= start):
            events.append(event)
            if len(events) > max_events:
                raise CalendarError(TOO_MANY, count=max_events, days=days)
    return sorted(events, key=lambda event: (event.starts_at, event.uid))


def render_calendar(events: Sequence[IcsEvent], *, name: str, prodid: str = DEFAULT_PRODID) -> bytes:
    """A VCALENDAR to publish: one VEVENT per event, times in each event's zone with the VTIMEZONEs they need."""
    calendar = icalendar.Calendar.new(
        name=name,
        prodid=prodid,
        method="PUBLISH",
        calscale="GREGORIAN",
        uid=uuid.uuid5(uuid.NAMESPACE_URL, f"{prodid}/{name}"),
    )
    for event in events:
        zone = _zone_info(event.zone)
        calendar.add_component(
            icalendar.Event.new(
                uid=event.uid,
                sequence=event.sequence,
                stamp=event.updated_at.astimezone(UTC),
                last_modified=event.updated_at.astimezone(UTC),
                start=event.starts_at.astimezone(zone),
                end=event.ends_at.astimezone(zone),
                summary=event.title or None,
                description=event.description or None,
                location=event.location or None,
                url=event.url,
                status=STATUS.CANCELLED if event.cancelled else STATUS.CONFIRMED,
            )
        )
    if events:
        first = min(event.starts_at for event in events).year
        last = max(event.ends_at for event in events).year
        calendar.add_missing_timezones(first_date=date(first, 1, 1), last_date=date(min(last + 1, 9999), 1, 1))
    return calendar.to_ical()


def _read(data: bytes) -> icalendar.Calendar:
    """The first VCALENDAR in `data`."""
    if len(data) > MAX_CALENDAR_BYTES:
        raise CalendarError(TOO_LARGE, megabytes=MAX_CALENDAR_BYTES // (1024 * 1024))
    text = data.decode("utf-8-sig", errors="replace")
    if not text.lstrip().upper().startswith("BEGIN:"):
        raise CalendarError(NOT_ICALENDAR)
    try:
        components = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception:  # the parser fails on hostile input in more ways than it documents
        raise CalendarError(NOT_ICALENDAR) from None
    for component in components:
        if isinstance(component, icalendar.Calendar):
            return component
    raise CalendarError(NO_CALENDAR)


def _prepare(calendar: icalendar.Calendar) -> tuple[set[str], dict[str, int | None]]:
    """Drop the events whose time fields are broken, name the nameless, and give timed events with no end an hour.

    Returns the UIDs of recurring events, and for each UID how many occurrences its EXDATEs and overrides may take
    out of the window (None when an all-day EXDATE may take out a whole day's worth).
    """
    recurring: set[str] = set()
    removable: dict[str, int | None] = {}

    def keep(component: icalendar.Component) -> bool:
        if component.name != "VEVENT":
            return True
        start = component.get("DTSTART")
        if not _usable(component, start):
            return False
        for name in {str(name).upper() for name, _ in component.errors} - _TIME_PROPERTIES:
            component.pop(name, None)
        if not component.get("UID"):
            component["UID"] = hashlib.sha256(component.to_ical()).hexdigest()[:32] + "@calendar"
        uid = str(component["UID"])
        if "DTEND" not in component and "DURATION" not in component and isinstance(start.dt, datetime):
            component.add("DURATION", DEFAULT_DURATION)
        if any(name in component for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            recurring.add(uid)
        taken, before = _removable(component), removable.get(uid, 0)
        removable[uid] = None if taken is None or before is None else before + taken
        return True

    def prune(parent: icalendar.Component) -> None:  # the library finds events at any depth
        parent.subcomponents[:] = [child for child in parent.subcomponents if keep(child)]
        for child in parent.subcomponents:
            prune(child)

    prune(calendar)
    return recurring, removable


def _usable(component: icalendar.Component, start: Any) -> bool:
    """Whether an event has one DTSTART date or datetime and its time fields parsed."""
    if not isinstance(start, icalendar.vDDDTypes) or not isinstance(start.dt, date):
        return False
    if any(isinstance(component.get(name), list) for name in _SINGLE_PROPERTIES):
        return False
    return not any(str(name).upper() in _TIME_PROPERTIES for name, _ in component.errors)


def _removable(component: icalendar.Component) -> int | None:
    """How many occurrences this component's EXDATEs and RECURRENCE-ID may take out of the window.

    None when that is not bounded: an all-day EXDATE takes out a whole day, RANGE=THISANDFUTURE moves every later one.
    """
    exdates = component.get("EXDATE", [])
    values = [value.dt for dates in (exdates if isinstance(exdates, list) else [exdates]) for value in dates.dts]
    moved = component.get("RECURRENCE-ID")
    if any(not isinstance(value, datetime) for value in values) or (
        moved is not None and str(moved.params.get("RANGE", "")).upper() == "THISANDFUTURE"
    ):
        return None
    return len(values) + (moved is not None)


def _standard(calendar: icalendar.Calendar) -> tuple[icalendar.Calendar, str]:
    """The calendar with its X-WR-TIMEZONE applied to UTC and floating times, and that zone's name (else UTC)."""
    declared = calendar.pop("X-WR-TIMEZONE", None)
    zone = _iana(str(declared)) if isinstance(declared, str) else None
    if zone is None or zone == "UTC":
        return calendar, "UTC"
    return x_wr_timezone.to_standard(calendar, timezone=zoneinfo.ZoneInfo(zone)), zone


class _Query(recurring_ical_events.CalendarQuery):
    """A query that skips every series the library fails to read, not only those with the errors it expects."""

    suppressed_errors: ClassVar[list[type[Exception]]] = [Exception]


class _Walk:
    """Walks each series' rules lazily before the library lists them, and stops the calendar early.

    It stops when the occurrences that are certainly in the window exceed `max_events`, or when the rules walked so
    far (from each rule's start) exceed STEP_BUDGET, or the walking EXPANSION_SECONDS of CPU time. What it walks is
    cached by the rules, so the library's listing afterwards reuses it.
    """

    def __init__(self, start: datetime, end: datetime, max_events: int, days: int) -> None:
        self.start = start
        self.end = end
        self.max_events = max_events
        self.days = days
        # Floating and all-day rules run in naive times: a day's margin covers any zone they may be read in.
        naive_start, naive_end = start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None)
        self.naive_low, self.naive_high = naive_start + timedelta(days=1), naive_end - timedelta(days=1)
        self.naive_stop = naive_end + timedelta(days=1)
        self.steps = 0
        self.certain = 0
        self.seconds = 0.0

    def series(self, series: recurring_ical_events.Series, removable: int | None) -> None:
        """Walk one series' rules up to the window's end; raise CalendarError when the calendar must stop."""
        started = time.thread_time()
        try:
            self._walk(series, removable, started)
        finally:
            self.seconds += time.thread_time() - started

    def _walk(self, series: recurring_ical_events.Series, removable: int | None, started: float) -> None:
        seen: set[datetime] = set()  # a start may come from several rules (RDATE, RRULE, DTSTART)
        for rule in getattr(series.recurrence, "rrules", ()):
            if self.seconds + time.thread_time() - started > EXPANSION_SECONDS:
                raise CalendarError(TOO_COMPLEX)
            for item in rule:
                self.steps += 1
                if self.steps > STEP_BUDGET or (
                    self.steps % _CHECK_CLOCK_EVERY == 0
                    and self.seconds + time.thread_time() - started > EXPANSION_SECONDS
                ):
                    raise CalendarError(TOO_COMPLEX)
                aware = item.tzinfo is not None
                if item > (self.end if aware else self.naive_stop):
                    break
                low, high = (self.start, self.end) if aware else (self.naive_low, self.naive_high)
                if low <= item < high and item not in seen:
                    seen.add(item)
                    if removable is not None and self.certain + len(seen) - removable > self.max_events:
                        raise CalendarError(TOO_MANY, count=self.max_events, days=self.days)
        if removable is not None:
            self.certain += max(0, len(seen) - removable)


def _occurrences(
    query: _Query, walk: _Walk, removable: dict[str, int | None]
) -> Iterator[tuple[date, date, icalendar.Component]]:
    """Each occurrence the library lists in the window, series by series, as (start, end, component)."""
    for series in query.series:
        try:
            walk.series(series, removable.get(str(series.uid)))
            for occurrence in series.between(walk.start, walk.end):
                yield occurrence.start, occurrence.end, occurrence.as_component(False)
        except CalendarError:
            raise
        except Exception as error:  # one broken series is skipped, not fatal
            log.info("calendar series %s skipped: %r", series.uid, error)


def _event(first: date, last: date, component: icalendar.Component, zone: str, recurring: set[str]) -> CalendarEvent:
    """One occurrence as the bot keeps it."""
    zone_info = zoneinfo.ZoneInfo(zone)
    all_day = not isinstance(first, datetime)
    starts_at = _utc(first, zone_info)
    ends_at = max(_utc(last, zone_info), starts_at)
    if all_day and ends_at == starts_at:
        ends_at = starts_at + timedelta(days=1)
    uid = str(component["UID"])
    if uid in recurring:
        original = component.get("RECURRENCE-ID")
        value = original.dt if isinstance(original, icalendar.vDDDTypes) else None
        identity = _utc(value, zone_info) if isinstance(value, date) else starts_at
        uid = f"{uid}/{identity:{_OCCURRENCE_FORMAT}}"
    return CalendarEvent(
        uid=uid,
        sequence=_sequence(component.get("SEQUENCE")),
        title=truncate(" ".join(_text(component, "SUMMARY").split()), TITLE_LIMIT),
        description=truncate(_plain(_text(component, "DESCRIPTION")), DESCRIPTION_LIMIT),
        location=truncate(" ".join(_text(component, "LOCATION").split()), LOCATION_LIMIT),
        url=_web_url(_text(component, "URL")),
        starts_at=starts_at,
        ends_at=ends_at,
        zone=_zone_of(first, component, zone),
        all_day=all_day,
        cancelled=_text(component, "STATUS").strip().upper() == "CANCELLED",
    )


def _utc(value: date, zone: tzinfo) -> datetime:
    """A date (midnight), floating time (in `zone`) or aware time, in UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, clock_time(), zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _zone_of(start: date, component: icalendar.Component, calendar_zone: str) -> str:
    """The IANA name of a start time's zone: its own, its TZID's (Windows names too), or the calendar's."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        return calendar_zone
    for name in (getattr(start.tzinfo, "key", None), component["DTSTART"].params.get("TZID")):
        if isinstance(name, str) and (zone := _iana(name)):
            return zone
    return "UTC"


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


@lru_cache(maxsize=1024)
def _iana(name: str) -> str | None:
    """The IANA name for a TZID or X-WR-TIMEZONE: itself, its Windows equivalent, or a vendor-prefixed id's tail."""
    cleaned = name.strip().strip('"').strip("/")
    parts = cleaned.split("/")
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned), *("/".join(parts[i:]) for i in range(1, len(parts)))]
    for candidate in candidates:
        if candidate in _zones():
            return "UTC" if candidate in {"Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"} else candidate
    return None


def _zone_info(name: str) -> tzinfo:
    """The zone of an event to publish; UTC for a name that is not an IANA zone."""
    zone = _iana(name)
    return zoneinfo.ZoneInfo(zone) if zone else UTC


def _text(component: icalendar.Component, name: str) -> str:
    """A text property as a string ('' when absent; the first when repeated)."""
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


def _plain(text: str) -> str:
    """A description as plain text: HTML (as Google Calendar writes it) loses its markup, blank runs shrink."""
    if _HTML_TAG.search(text):
        return plain_text(text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _web_url(text: str) -> str | None:
    """The URL if it is an http(s) address with a host."""
    text = text.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return text if parts.scheme.lower() in {"http", "https"} and parts.hostname else None


def _sequence(value: Any) -> int:
    """SEQUENCE as a number, 0 when absent or not a number."""
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
