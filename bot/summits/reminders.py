"""Reminder offsets ("30d, 7d, 1d, 1h, 0") and the instants they fall due, counted in the event's local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import N_

DEFAULT_OFFSETS = "30d, 7d, 1d, 1h, 0"
MAX_OFFSETS = 8
MAX_DAYS = 365
_OFFSET = re.compile(r"(\d{1,4})\s*([dhm]?)")
BAD_OFFSETS = N_(
    "Write the reminders as amounts before the start, separated by commas: days (d), hours (h) or minutes (m), "
    "and 0 for the start itself, for example 30d, 7d, 1d, 1h, 0."
)


@dataclass(frozen=True, slots=True)
class Offset:
    """How long before the start a reminder goes out: whole days count in local time (DST-proof)."""

    days: int = 0
    minutes: int = 0

    @property
    def span(self) -> timedelta:
        """Roughly how long before the start (a local day counted as 24 hours), for ordering."""
        return timedelta(days=self.days, minutes=self.minutes)

    @property
    def label(self) -> str:
        """The offset as written: `7d`, `1h`, `90m`, `0`."""
        if self.days:
            return f"{self.days}d"
        if self.minutes and self.minutes % 60 == 0:
            return f"{self.minutes // 60}h"
        return f"{self.minutes}m" if self.minutes else "0"

    def due(self, starts_at: datetime, zone: str) -> datetime:
        """The instant of this reminder: N days earlier at the same local time, or N minutes earlier."""
        if self.days:
            tz = ZoneInfo(zone)
            local = starts_at.astimezone(tz).replace(tzinfo=None) - timedelta(days=self.days)
            return local.replace(tzinfo=tz).astimezone(starts_at.tzinfo)
        return starts_at - timedelta(minutes=self.minutes)


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """The offsets an organiser typed, longest first; refuses anything else with the format to use."""
    found: set[Offset] = set()
    for part in text.split(","):
        match = _OFFSET.fullmatch(part.strip().lower())
        if match is None:
            raise UserError(BAD_OFFSETS)
        amount, unit = int(match.group(1)), match.group(2)
        if amount and not unit:
            raise UserError(BAD_OFFSETS)
        offset = Offset(days=amount) if unit == "d" else Offset(minutes=amount * (60 if unit == "h" else 1))
        if offset.days > MAX_DAYS or offset.minutes > MAX_DAYS * 24 * 60:
            raise UserError(N_("A reminder can go out at most {days} days before the start."), days=MAX_DAYS)
        found.add(offset)
    if len(found) > MAX_OFFSETS:
        raise UserError(N_("Choose at most {limit} reminders."), limit=MAX_OFFSETS)
    return tuple(sorted(found, key=lambda offset: offset.span, reverse=True))


def format_offsets(offsets: tuple[Offset, ...]) -> str:
    """The offsets as an organiser would type them."""
    return ", ".join(offset.label for offset in offsets)
