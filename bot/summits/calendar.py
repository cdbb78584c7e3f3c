"""TEMPORARY STUB until the calendar module lands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IcsEvent:
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


def render_calendar(events: Sequence[IcsEvent], *, name: str, prodid: str = "") -> bytes:
    return b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
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


MAX_CALENDAR_BYTES = 5 * 1024 * 1024
from datetime import timedelta  # noqa

WINDOW = timedelta(days=90)


class CalendarError(Exception):
    pass


def parse_calendar(data: bytes, *, start: datetime, end: datetime, max_events: int = 5000) -> list[CalendarEvent]:
    raise NotImplementedError
