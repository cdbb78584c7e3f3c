"""New-entry decisions, caps and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.feeds.diff import (
    DISABLE_AFTER,
    MAX_BACKOFF,
    PER_DAY,
    PER_POLL,
    POLL_INTERVAL,
    WARN_AFTER,
    after_failure,
    allowance,
    discover_new,
    next_poll,
)
from bot.feeds.parse import Entry

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def entry(key: str, age: timedelta | None) -> Entry:
    published = NOW - age if age is not None else None
    return Entry(key, key, None, "", "", None, published, (), None)


def test_learning_remembers_everything_and_announces_nothing() -> None:
    entries = (entry("a", timedelta(hours=1)), entry("b", timedelta(hours=2)))
    found = discover_new(entries, set(), learning=True, now=NOW)
    assert found.remember == ("a", "b") and found.announce == ()


def test_only_unseen_recent_entries_are_announced_oldest_first() -> None:
    entries = (
        entry("new", timedelta(minutes=5)),
        entry("seen", timedelta(minutes=10)),
        entry("older", timedelta(hours=3)),
        entry("ancient", timedelta(days=30)),
        entry("undated", None),
        entry("new", timedelta(minutes=5)),
    )
    found = discover_new(entries, {"seen"}, learning=False, now=NOW)
    assert set(found.remember) == {"new", "older", "ancient", "undated"}
    assert [e.key for e in found.announce] == ["older", "new", "undated"]


def test_allowance_caps_each_poll_and_each_day() -> None:
    assert allowance(0, None, NOW) == PER_POLL
    assert allowance(PER_DAY - 2, NOW, NOW) == 2
    assert allowance(PER_DAY + 3, NOW, NOW) == 0
    assert allowance(PER_DAY, NOW - timedelta(days=1), NOW) == PER_POLL


def test_failures_back_off_exponentially_up_to_a_day() -> None:
    assert next_poll(NOW, 0) == NOW + POLL_INTERVAL
    assert next_poll(NOW, 1) == NOW + 2 * POLL_INTERVAL
    assert next_poll(NOW, 3) == NOW + 8 * POLL_INTERVAL
    assert next_poll(NOW, 40) == NOW + MAX_BACKOFF


def test_organisers_are_warned_once_then_the_feed_is_disabled() -> None:
    states = [after_failure(n) for n in range(DISABLE_AFTER + 2)]
    assert [s.failures for s in states if s.warn] == [WARN_AFTER]
    assert next(s.failures for s in states if s.disable) == DISABLE_AFTER
