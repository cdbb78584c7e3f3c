"""Which entries are new, how many may go out, and when a failing feed is tried again: pure decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.feeds.parse import Entry

MAX_AGE = timedelta(days=7)
PER_POLL = 5
PER_DAY = 30
POLL_INTERVAL = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=24)
WARN_AFTER = 3
DISABLE_AFTER = 8


@dataclass(frozen=True, slots=True)
class Discovery:
    """The result of comparing a fetch with what was seen: keys to remember and entries to announce."""

    remember: tuple[str, ...]
    announce: tuple[Entry, ...]


def discover_new(
    entries: tuple[Entry, ...],
    seen: set[str],
    *,
    learning: bool,
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> Discovery:
    """Unseen entries, all remembered; announced (oldest first) unless learning or older than `max_age`."""
    unseen: dict[str, Entry] = {}
    for entry in entries:
        if entry.key not in seen and entry.key not in unseen:
            unseen[entry.key] = entry
    if learning:
        return Discovery(tuple(unseen), ())
    fresh = [e for e in unseen.values() if e.published is None or now - e.published <= max_age]
    # Feeds list newest first; undated entries keep the feed's order.
    fresh.reverse()
    fresh.sort(key=lambda e: e.published or now)
    return Discovery(tuple(unseen), tuple(fresh))


def allowance(posted_today: int, day_of_count: datetime | None, now: datetime) -> int:
    """How many posts a subscription may make in this poll: at most PER_POLL, and PER_DAY per UTC day."""
    if day_of_count is None or day_of_count.date() != now.date():
        posted_today = 0
    return max(0, min(PER_POLL, PER_DAY - posted_today))


def next_poll(now: datetime, failures: int, interval: timedelta = POLL_INTERVAL) -> datetime:
    """When to poll next: the interval, doubled for every consecutive failure, at most a day."""
    if failures <= 0:
        return now + interval
    return now + min(interval * (2 ** min(failures, 16)), MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class Health:
    """What a failure means for the feed: keep trying, warn organisers once, or disable it."""

    failures: int
    warn: bool
    disable: bool


def after_failure(failures: int, warn_after: int = WARN_AFTER, disable_after: int = DISABLE_AFTER) -> Health:
    """The feed's health after one more consecutive failure."""
    count = failures + 1
    return Health(failures=count, warn=count == warn_after, disable=count >= disable_after)
