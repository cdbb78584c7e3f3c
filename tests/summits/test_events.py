"""What an organiser types for an event: times in a zone, a place or a link, the limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UserError
from bot.summits.events import EventDraft, draft_times

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def _draft() -> EventDraft:
    zone, start, end = draft_times("2027-04-01 10:00", None, "Europe/Bucharest", NOW)
    return EventDraft(1, 2, zone, start, end)


def test_times_are_read_in_the_zone_and_the_end_defaults_to_two_hours() -> None:
    zone, start, end = draft_times("2027-04-01 10:00", None, "Europe/Bucharest", NOW)
    assert (zone, start, end - start) == (
        "Europe/Bucharest",
        datetime(2027, 4, 1, 7, 0, tzinfo=UTC),
        timedelta(hours=2),
    )


@pytest.mark.parametrize(
    ("start", "end", "zone", "expected"),
    [
        ("2027-02-30 10:00", None, "UTC", "not a date and time that exists"),
        ("2027-04-01 25:00", None, "UTC", "not a date and time that exists"),
        ("2027-04-01 10:00", None, "Europe/Atlantis", "not a time zone I know"),
        ("2027-04-01 10:00", "2027-04-01 09:59", "UTC", "end must come after the start"),
        ("2027-04-01 10:00", "2027-06-01 10:00", "UTC", "at most 31 days"),
        ("2027-02-01 10:00", None, "UTC", "already past"),
        ("2031-01-01 10:00", None, "UTC", "three years ahead"),
    ],
)
def test_bad_times_are_refused(start: str, end: str | None, zone: str, expected: str) -> None:
    with pytest.raises(UserError) as refused:
        draft_times(start, end, zone, NOW)
    assert expected in str(refused.value)


def test_a_place_can_be_a_city_or_an_online_link() -> None:
    in_person = _draft().with_text("  Civic   Hack ", "Bucharest, Impact Hub", "https://example.org/hack", "")
    assert (in_person.name, in_person.location, in_person.url) == (
        "Civic Hack",
        "Bucharest, Impact Hub",
        "https://example.org/hack",
    )
    online = _draft().with_text("Call", "https://meet.example.org/x", "", "")
    assert (online.location, online.url) == (None, "https://meet.example.org/x")


@pytest.mark.parametrize(
    ("name", "place", "link", "expected"),
    [
        ("", "Bucharest", "", "needs a name"),
        ("x" * 101, "Bucharest", "", "at most 100"),
        ("Hack", "", "", "Say where it happens"),
        ("Hack", "x" * 101, "", "at most 100"),
        ("Hack", "Bucharest", "javascript:alert(1)", "not a web link"),
        ("Hack", "Bucharest", "ftp://example.org", "not a web link"),
    ],
)
def test_bad_text_is_refused(name: str, place: str, link: str, expected: str) -> None:
    with pytest.raises(UserError) as refused:
        _draft().with_text(name, place, link, "")
    assert expected in str(refused.value)
