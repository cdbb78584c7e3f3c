"""Local date and time in an IANA zone, as organisers type them, to the instant they mean (DST-correct)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import UserError
from bot.i18n import N_

LOCAL_FORMAT = "%Y-%m-%d %H:%M"
_LOCAL = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})")
MAX_AHEAD = timedelta(days=366)
TOO_FAR = N_("Announcements can be scheduled at most a year ahead.")
UNKNOWN_ZONE = N_("“{zone}” is not a time zone I know: pick one from the list, e.g. Europe/Bucharest.")


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name (from tzdata), sorted."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def complete_zones(typed: str, limit: int = 25) -> list[str]:
    """Zone names for autocomplete: those starting with what was typed, then those containing it."""
    needle = typed.strip().lower().replace(" ", "_")
    if not needle:
        return list(zone_names()[:limit])
    starts = [name for name in zone_names() if name.lower().startswith(needle)]
    contains = [name for name in zone_names() if needle in name.lower() and name not in starts]
    return (starts + contains)[:limit]


def zone(name: str) -> ZoneInfo:
    """The zone called `name`, or a UserError naming it."""
    cleaned = name.strip()
    if cleaned not in zone_names():
        raise UserError(UNKNOWN_ZONE, zone=name)
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(UNKNOWN_ZONE, zone=name) from None


def parse_local(
    text: str, zone_name: str, now: datetime, *, ahead: timedelta = MAX_AHEAD, too_far: str = TOO_FAR
) -> datetime:
    """The UTC instant of local `text` (YYYY-MM-DD HH:MM) in `zone_name`, after `now` and at most `ahead` of it."""
    tz = zone(zone_name)
    match = _LOCAL.fullmatch(text.strip())
    if match is None:
        raise UserError(N_("Write the time as YYYY-MM-DD HH:MM, for example 2027-05-12 09:00."))
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        raise UserError(N_("{when} is not a date and time that exists."), when=text.strip()) from None
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise UserError(
            N_("{when} does not exist in {zone}: the clocks skip that hour. Choose another time."),
            when=text.strip(),
            zone=tz.key,
        )
    if instant <= now:
        raise UserError(
            N_("{when} in {zone} is already past: choose a time in the future."), when=text.strip(), zone=tz.key
        )
    if instant > now + ahead:
        raise UserError(too_far)
    return instant


def local_text(instant: datetime, zone_name: str) -> str:
    """`instant` as local YYYY-MM-DD HH:MM in the zone."""
    return instant.astimezone(ZoneInfo(zone_name)).strftime(LOCAL_FORMAT)
