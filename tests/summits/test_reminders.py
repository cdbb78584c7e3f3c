"""Reminder offsets as organisers type them, and their instants in the event's local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import UserError
from bot.summits.reminders import DEFAULT_OFFSETS, Offset, format_offsets, parse_offsets


def test_the_default_offsets_read_longest_first() -> None:
    assert format_offsets(parse_offsets(DEFAULT_OFFSETS)) == "30d, 7d, 1d, 1h, 0"
    assert parse_offsets("0, 90m, 2d,2d") == (Offset(days=2), Offset(minutes=90), Offset())


@pytest.mark.parametrize("typed", ["", "7", "7 weeks", "-1d", "1d,,2d", "400d", "1h 2h", "9" * 5 + "m"])
def test_anything_else_is_refused_with_a_sentence(typed: str) -> None:
    with pytest.raises(UserError):
        parse_offsets(typed)


def test_more_than_eight_reminders_are_refused() -> None:
    with pytest.raises(UserError, match="at most 8"):
        parse_offsets(", ".join(f"{n}h" for n in range(1, 10)))


def test_days_count_in_local_time_across_a_dst_change() -> None:
    start = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 in Warsaw, summer time
    assert Offset(days=7).due(start, "Europe/Warsaw") == datetime(2027, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 winter time
    assert Offset(minutes=60 * 24 * 7).due(start, "Europe/Warsaw") == datetime(2027, 3, 23, 7, 0, tzinfo=UTC)
    assert Offset().due(start, "Europe/Warsaw") == start
