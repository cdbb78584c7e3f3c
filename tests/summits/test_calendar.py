"""Calendars in and out: time zones, recurrences, overrides, hostile input, and what the bot publishes."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.summits import calendar
from bot.summits.calendar import (
    MAX_CALENDAR_BYTES,
    WINDOW,
    CalendarError,
    CalendarEvent,
    IcsEvent,
    parse_calendar,
    render_calendar,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "calendars"
START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + WINDOW
WARSAW = ZoneInfo("Europe/Warsaw")


def load(name: str, start: datetime = START, end: datetime = END) -> list[CalendarEvent]:
    return parse_calendar((DATA / name).read_bytes(), start=start, end=end)


def ics(*events: str, header: str = "") -> bytes:
    """A calendar around VEVENT bodies (their property lines, one a line)."""
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{header}{body}END:VCALENDAR\r\n".encode()


def event(uid: str, *lines: str) -> str:
    return "\r\n".join((f"UID:{uid}", *lines))


def parse(data: bytes, max_events: int = 5000) -> list[CalendarEvent]:
    return parse_calendar(data, start=START, end=END, max_events=max_events)


def test_a_time_zoned_weekly_event_stays_at_nine_local_across_the_dst_change() -> None:
    events = load("warsaw.ics")
    assert [e.starts_at.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M") for e in events] == [
        "2026-03-23 09:00",
        "2026-03-30 09:00",
        "2026-04-06 09:00",
    ]
    assert [e.starts_at.hour for e in events] == [8, 7, 7]  # CET, then CEST from 29 March
    assert all(e.starts_at.tzinfo is UTC and e.ends_at - e.starts_at == timedelta(hours=1) for e in events)
    assert {e.zone for e in events} == {"Europe/Warsaw"}
    assert events[0].uid == "standup-warsaw@example.org/20260323T080000Z"
    assert events[0].title == "Weekly hack night planning" and events[0].location == "Warszawa"
    assert not events[0].all_day and not events[0].cancelled and events[0].sequence == 0


def test_all_day_events_span_whole_days() -> None:
    summit, partner_day = load("all_day.ics")
    assert summit.all_day and summit.uid == "summit-2026@codeforall.org"
    assert (summit.starts_at, summit.ends_at) == (datetime(2026, 5, 12, tzinfo=UTC), datetime(2026, 5, 14, tzinfo=UTC))
    assert summit.description == "Two days of talks, workshops and hacking.\nBring a laptop."
    assert summit.url == "https://codeforall.org/summit"
    assert partner_day.ends_at - partner_day.starts_at == timedelta(days=1)  # no DTEND: the next day
    assert partner_day.url is None  # a javascript: URL is no link


def test_a_weekly_rule_skips_its_exdate() -> None:
    lab = [e for e in load("recurring.ics") if e.uid.startswith("civic-lab@")]
    local = [e.starts_at.astimezone(ZoneInfo("Europe/Bucharest")) for e in lab]
    assert [d.strftime("%m-%d %H:%M") for d in local] == [
        "04-07 18:00",
        "04-14 18:00",  # 04-21 is the EXDATE
        "04-30 19:00",  # 04-28, moved
        "05-05 18:00",
        "05-12 18:00",
        "05-19 18:00",
        "05-26 18:00",
    ]
    assert all(e.ends_at - e.starts_at == timedelta(hours=2) for e in lab)  # DURATION:PT2H, and the override's DTEND


def test_a_recurrence_id_override_moves_one_occurrence_and_keeps_its_identity() -> None:
    moved = next(e for e in load("recurring.ics") if e.title.startswith("Civic lab (moved"))
    assert moved.starts_at == datetime(2026, 4, 30, 16, tzinfo=UTC)
    assert moved.uid == "civic-lab@code4.ro/20260428T150000Z"  # the original start: stable when it moves again
    assert moved.sequence == 3


def test_cancelled_events_and_occurrences_are_marked() -> None:
    cancelled = {e.uid for e in load("recurring.ics") if e.cancelled}
    assert cancelled == {"town-hall@code4.ro", "civic-lab@code4.ro/20260505T150000Z"}


def test_a_google_calendar_reads_utc_and_floating_times_in_its_x_wr_timezone() -> None:
    events = {e.title: e for e in load("google.ics")}
    demo, workshop = events["Demo day"], events["Workshop"]
    assert demo.starts_at == datetime(2026, 3, 12, 2, tzinfo=UTC) and demo.zone == "America/Los_Angeles"
    assert demo.description == "Join us online. Bring a project."  # Google's HTML, as plain text
    assert demo.sequence == 1 and demo.location == "https://meet.example.org/demo"
    assert workshop.starts_at == datetime(2026, 3, 20, 17, tzinfo=UTC)  # 10:00 in Los Angeles (PDT)
    nights = [e for e in load("google.ics") if e.title == "Brigade night"]
    assert [e.starts_at.hour for e in nights] == [2, 1, 1]  # 18:00 local, PST then PDT


def test_an_unknown_x_wr_timezone_is_ignored() -> None:
    data = ics(event("a", "DTSTART:20260310T120000Z"), header="X-WR-TIMEZONE:Mars/Olympus_Mons\r\n")
    [only] = parse(data)
    assert only.starts_at == datetime(2026, 3, 10, 12, tzinfo=UTC) and only.zone == "UTC"


def test_a_windows_tzid_resolves_to_its_iana_zone() -> None:
    [call] = load("outlook.ics", end=START + timedelta(days=120))
    assert call.zone == "Europe/Berlin"
    assert (call.starts_at, call.ends_at) == (
        datetime(2026, 6, 10, 12, tzinfo=UTC),
        datetime(2026, 6, 10, 13, 30, tzinfo=UTC),
    )


@pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")
def test_a_windows_tzid_without_vtimezone_and_a_vendor_prefixed_tzid() -> None:
    data = ics(
        event("w", "DTSTART;TZID=Romance Standard Time:20260310T120000"),
        event("v", "DTSTART;TZID=/freeassociation.sourceforge.net/Europe/Madrid:20260311T120000"),
    )
    windows, vendor = parse(data)
    assert (windows.zone, windows.starts_at.hour) == ("Europe/Paris", 11)
    assert (vendor.zone, vendor.starts_at.hour) == ("Europe/Madrid", 11)


def test_floating_times_without_x_wr_timezone_are_utc_and_last_an_hour() -> None:
    [meetup] = load("floating.ics")
    assert meetup.starts_at == datetime(2026, 4, 10, 18, tzinfo=UTC) and meetup.zone == "UTC"
    assert meetup.ends_at - meetup.starts_at == timedelta(hours=1)


def test_only_occurrences_overlapping_the_window_are_kept() -> None:
    data = ics(
        event("running", "DTSTART:20260228T120000Z", "DTEND:20260302T120000Z"),
        event("ended", "DTSTART:20260228T230000Z", "DTEND:20260301T000000Z"),
        event("later", "DTSTART:20260530T000000Z"),
        event("b", "DTSTART:20260420T100000Z"),
        event("a", "DTSTART:20260420T100000Z"),
    )
    assert [e.uid for e in parse(data)] == ["running", "a", "b"]


def test_an_unbounded_secondly_rule_is_refused_quickly_and_in_little_memory() -> None:
    data = ics(event("flood", "DTSTART:20260301T000000Z", "RRULE:FREQ=SECONDLY", "SUMMARY:Flood"))
    cpu = time.thread_time()
    with pytest.raises(CalendarError) as refused:
        parse(data)
    assert time.thread_time() - cpu < 1.0  # CPU time: it stops at the 5001st second, not after 7.8 million
    assert str(refused.value) == "The calendar expands to more than 5000 events in the next 90 days."
    tracemalloc.start()
    try:
        with pytest.raises(CalendarError):
            parse(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024


def test_more_events_than_the_limit_are_refused_and_exactly_the_limit_is_not() -> None:
    singles = [event(f"e{n}", f"DTSTART:202604{n + 1:02}T100000Z") for n in range(10)]
    assert len(parse(ics(*singles), max_events=10)) == 10
    with pytest.raises(CalendarError, match="more than 9 events"):
        parse(ics(*singles), max_events=9)


def test_exdates_count_before_a_rule_is_refused() -> None:
    rule = event(
        "w",
        "DTSTART:20260302T100000Z",
        "RRULE:FREQ=WEEKLY",
        "EXDATE:20260309T100000Z,20260316T100000Z,20260323T100000Z,20260330T100000Z",
    )
    assert len(parse(ics(rule), max_events=9)) == 9  # 13 weeks in the window, 4 excluded


def test_a_rule_walked_from_long_ago_is_refused_when_the_walk_is_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "STEP_BUDGET", 10_000)
    data = ics(event("old", "DTSTART:19000101T090000Z", "RRULE:FREQ=DAILY"))
    with pytest.raises(CalendarError, match="take too long"):
        parse(data)


def test_a_slow_rule_is_stopped_by_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "EXPANSION_SECONDS", 0.05)
    data = ics(event("slow", "DTSTART:20240101T000000Z", "RRULE:FREQ=SECONDLY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"))
    with pytest.raises(CalendarError, match="take too long"):
        parse(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n",
        b"<!DOCTYPE html><html><head><title>Calendar</title></head><body>Not here</body></html>",
        b'{"events": [{"title": "Summit", "start": "2026-05-12"}]}',
        b"\x00\x01\x02\xff\xfe garbage",
        b"BEGIN:VCALENDAR\r\nthis line has no colon\r\nEND:VCALENDAR\r\n",
    ],
    ids=["empty", "blank", "html", "json", "garbage", "broken"],
)
def test_what_is_not_icalendar_is_refused(data: bytes) -> None:
    with pytest.raises(CalendarError, match=r"not an iCalendar \(\.ics\) file"):
        parse(data)


def test_icalendar_without_a_vcalendar_is_refused() -> None:
    with pytest.raises(CalendarError, match="no calendar"):
        parse(b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260310T120000Z\r\nEND:VEVENT\r\n")
    with pytest.raises(CalendarError, match="no calendar"):
        parse(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")


def test_a_calendar_over_the_size_limit_is_refused() -> None:
    with pytest.raises(CalendarError, match="larger than 5 MB"):
        parse(b"BEGIN:VCALENDAR\r\n" + b"X" * MAX_CALENDAR_BYTES)


def test_a_non_gregorian_calendar_is_refused() -> None:
    with pytest.raises(CalendarError, match="Gregorian"):
        parse(ics(event("a", "DTSTART:20260310T120000Z"), header="CALSCALE:CHINESE\r\n"))


def test_events_with_broken_fields_are_skipped() -> None:
    data = ics(
        event("no-start", "SUMMARY:No start"),
        event("bad-start", "DTSTART:not-a-date"),
        event("bad-rule", "DTSTART:20260310T120000Z", "RRULE:FREQ=SOMETIMES"),
        event("bad-end", "DTSTART:20260310T120000Z", "DTEND:tomorrow"),
        event("bad-sequence", "DTSTART:20260311T120000Z", "SEQUENCE:many"),
        event("good", "DTSTART:20260312T120000Z", "SUMMARY:Good"),
    )
    events = parse(data)
    assert [e.uid for e in events] == ["bad-sequence", "good"]
    assert events[0].sequence == 0


def test_events_nested_in_other_components_are_checked_too() -> None:
    data = ics(
        event(
            "outer",
            "DTSTART:20260310T120000Z",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT15M",
            "BEGIN:VEVENT",
            "SUMMARY:No start, no UID",
            "END:VEVENT",
            "END:VALARM",
        )
    )
    assert [e.uid for e in parse(data)] == ["outer"]


def test_a_calendar_of_only_broken_events_is_empty() -> None:
    assert parse(ics(event("a", "SUMMARY:x"), event("b", "DTSTART:soon"))) == []


def test_an_event_without_uid_gets_one_that_is_stable() -> None:
    data = ics("DTSTART:20260310T120000Z\r\nSUMMARY:Nameless")
    first, again = parse(data), parse(data)
    assert first[0].uid == again[0].uid and first[0].uid.endswith("@calendar")


def test_long_and_spaced_out_text_is_cut_to_its_limits() -> None:
    data = ics(
        event(
            "long",
            "DTSTART:20260310T120000Z",
            "SUMMARY:" + "Civic   tech\\n summit " * 30,
            "DESCRIPTION:" + "word " * 400,
            "LOCATION:" + "Bucharest " * 20,
        )
    )
    [long] = parse(data)
    assert len(long.title) <= 100 and long.title.endswith("…") and "  " not in long.title
    assert long.title.startswith("Civic tech summit Civic tech")
    assert len(long.description) <= 1000 and long.description.endswith("…")
    assert len(long.location) <= 100 and long.location.endswith("…")


def test_an_event_without_summary_has_an_empty_title() -> None:
    [untitled] = parse(ics(event("u", "DTSTART:20260310T120000Z")))
    assert untitled.title == "" and untitled.description == "" and untitled.location == ""


def test_occurrence_uids_are_stable_across_fetches() -> None:
    assert [e.uid for e in load("recurring.ics")] == [e.uid for e in load("recurring.ics")]
    later = load("recurring.ics", start=START + timedelta(days=45), end=END + timedelta(days=45))
    assert {e.uid for e in later} & {e.uid for e in load("recurring.ics")}


PUBLISHED = [
    IcsEvent(
        uid="summit-1@codeforall.org",
        sequence=2,
        title='Code for All Summit; day 1, "Open" \\ plenary',
        description="Talks, workshops; hacking.\nBring a laptop: " + "ű" * 80,
        location="Warszawa, Poland",
        url="https://codeforall.org/summit",
        starts_at=datetime(2026, 3, 23, 8, tzinfo=UTC),
        ends_at=datetime(2026, 3, 23, 16, tzinfo=UTC),
        zone="Europe/Warsaw",
        cancelled=False,
        updated_at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
    ),
    IcsEvent(
        uid="call-7@codeforall.org",
        sequence=0,
        title="Partner call",
        description="",
        location="",
        url=None,
        starts_at=datetime(2026, 4, 2, 15, tzinfo=UTC),
        ends_at=datetime(2026, 4, 2, 16, tzinfo=UTC),
        zone="America/New_York",
        cancelled=True,
        updated_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    ),
    IcsEvent(
        uid="utc-3@codeforall.org",
        sequence=1,
        title="Online sync",
        description="",
        location="",
        url=None,
        starts_at=datetime(2026, 4, 3, 10, tzinfo=UTC),
        ends_at=datetime(2026, 4, 3, 11, tzinfo=UTC),
        zone="UTC",
        cancelled=False,
        updated_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    ),
]


def test_a_rendered_calendar_is_valid_icalendar_with_its_timezones() -> None:
    data = render_calendar(PUBLISHED, name="Code for All: summits")
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines)
    assert b"\n" not in data.replace(b"\r\n", b"")
    parsed = icalendar.Calendar.from_ical(data)
    parsed.validate()
    assert (str(parsed["VERSION"]), str(parsed["PRODID"])) == ("2.0", "-//Code for All//network bot//EN")
    assert (str(parsed["CALSCALE"]), str(parsed["METHOD"])) == ("GREGORIAN", "PUBLISH")
    assert str(parsed["X-WR-CALNAME"]) == "Code for All: summits"
    assert {tz.tz_name for tz in parsed.timezones} == {"Europe/Warsaw", "America/New_York"}
    assert parsed.get_missing_tzids() == set()
    summit, call, sync = parsed.walk("VEVENT")
    assert summit["DTSTART"].params["TZID"] == "Europe/Warsaw"
    assert summit.decoded("DTSTART") == datetime(2026, 3, 23, 9, tzinfo=WARSAW)
    assert summit.decoded("DTEND") == datetime(2026, 3, 23, 17, tzinfo=WARSAW)
    assert str(summit["SUMMARY"]) == PUBLISHED[0].title and str(summit["DESCRIPTION"]) == PUBLISHED[0].description
    assert str(summit["LOCATION"]) == "Warszawa, Poland" and str(summit["URL"]) == "https://codeforall.org/summit"
    assert (int(summit["SEQUENCE"]), str(summit["STATUS"])) == (2, "CONFIRMED")
    assert summit.decoded("DTSTAMP") == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert (str(call["STATUS"]), call["DTSTART"].params["TZID"]) == ("CANCELLED", "America/New_York")
    assert "DESCRIPTION" not in call and "URL" not in call
    assert b"DTSTART:20260403T100000Z" in data and "TZID" not in sync["DTSTART"].params


def test_render_then_parse_gives_the_events_back() -> None:
    data = render_calendar(PUBLISHED, name="Summits")
    back = parse_calendar(data, start=START, end=END)
    assert [(e.uid, e.starts_at, e.ends_at, e.zone, e.cancelled, e.sequence) for e in back] == [
        (p.uid, p.starts_at, p.ends_at, p.zone, p.cancelled, p.sequence) for p in PUBLISHED
    ]
    assert back[0].title == PUBLISHED[0].title and back[0].description == PUBLISHED[0].description
    assert back[0].url == PUBLISHED[0].url and back[1].url is None


def test_an_empty_calendar_renders() -> None:
    parsed = icalendar.Calendar.from_ical(render_calendar([], name="Nothing yet"))
    assert parsed.walk("VEVENT") == [] and str(parsed["X-WR-CALNAME"]) == "Nothing yet"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), st.binary(max_size=2000).map(b"BEGIN:VCALENDAR\r\n".__add__)))
def test_random_bytes_raise_nothing_but_calendar_error(data: bytes) -> None:
    with contextlib.suppress(CalendarError):
        parse(data)


_LINES = st.one_of(
    st.sampled_from(
        [
            "DTSTART:20260310T120000Z",
            "DTSTART;VALUE=DATE:20260310",
            "DTSTART;TZID=Europe/Warsaw:20260310T120000",
            "DTSTART;TZID=Nowhere:20260310T120000",
            "DTSTART:20260310T120000",
            "DTEND:20260309T120000Z",
            "DURATION:PT30M",
            "DURATION:-P1D",
            "RRULE:FREQ=WEEKLY;COUNT=3",
            "RRULE:FREQ=DAILY;UNTIL=20260320",
            "RRULE:FREQ=MONTHLY;BYDAY=-1FR",
            "RDATE:20260401T100000Z",
            "EXDATE:20260317T120000Z",
            "EXDATE;VALUE=DATE:20260311",
            "RECURRENCE-ID:20260317T120000Z",
            "STATUS:CANCELLED",
            "SEQUENCE:-4",
            "URL:ftp://example.org",
            "UID:same",
            "BEGIN:VALARM",
            "END:VALARM",
            "BEGIN:VEVENT",
            "END:VEVENT",
            "X-WR-TIMEZONE:Europe/Warsaw",
            "X-WR-TIMEZONE:W. Europe Standard Time",
        ]
    ),
    st.builds(
        "{}:{}".format,
        st.sampled_from(
            ["DTSTART", "DTEND", "RRULE", "EXDATE", "RDATE", "SUMMARY", "UID", "SEQUENCE", "X-WR-TIMEZONE"]
        ),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=30),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_LINES, max_size=8), max_size=4), st.lists(_LINES, max_size=3))
def test_random_calendars_raise_nothing_but_calendar_error(events: list[list[str]], header: list[str]) -> None:
    data = ics(*("\r\n".join(lines) for lines in events), header="".join(f"{line}\r\n" for line in header))
    try:
        parsed = parse(data)
    except CalendarError:
        return
    assert all(START - timedelta(days=400) < e.starts_at < END and e.ends_at >= e.starts_at for e in parsed)
