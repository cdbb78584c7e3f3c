"""Summits and events through the sandbox, on a clock the test moves: add, list, remind, move, cancel, restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from bot.clock import FakeClock
from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from bot.sandbox import InteractionResult, Sandbox
from bot.sandbox.state import Message
from tests.feeds_server import FeedServer, Route

# 2027-03-01 12:00 UTC. Warsaw moves its clocks forward on 2027-03-28 (02:00 → 03:00).
START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
# 2027-03-30 09:00 in Warsaw is 07:00 UTC (CEST); seven days earlier 09:00 is 08:00 UTC (CET).
EVENT_START = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)
FORM = {"name": "Civic Hack Warsaw", "place": "Warsaw, Koszyki Hall", "link": "", "description": "Hack @everyone"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _events_channel(session: SandboxSession, offsets: str | None = None) -> int:
    channel = session.sandbox.create_channel(session.guild_id, "events")
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    await session.sandbox.slash(*organiser, "settings events-channel", {"channel": channel.id})
    if offsets:
        await session.sandbox.slash(*organiser, "settings reminders", {"offsets": offsets})
    return channel.id


async def _add(session: SandboxSession, options: dict[str, Any], form: dict[str, str] = FORM) -> InteractionResult:
    opened = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "summits add", options
    )
    assert opened.modal is not None, opened.message.content
    preview = await session.sandbox.submit_modal(opened, form, session.organiser_id)
    assert "Preview" in preview.message.content, preview.message.content
    return await session.sandbox.click(preview.message, _labelled(preview, "Confirm"), session.organiser_id)


def _labelled(result: InteractionResult, label: str) -> str:
    return next(b["custom_id"] for b in result.message.buttons if b.get("label") == label)


def _posts(session: SandboxSession, channel_id: int) -> list[Any]:
    bot_id = session.sandbox.state.bot_id
    return [m for m in session.sandbox.messages(channel_id) if m.author_id == bot_id and not m.ephemeral]


def _sent(session: SandboxSession, channel_id: int) -> list[Any]:
    path = f"/channels/{channel_id}/messages"
    return [e.request_json for e in session.sandbox.exchanges if e.method == "POST" and e.path == path]


async def _tick(session: SandboxSession) -> None:
    await session.bot.dispatcher.idle()
    await session.bot.dispatcher.run()


async def _at(session: SandboxSession, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    await _tick(session)


async def test_an_event_is_announced_listed_and_reminded_once_at_each_offset_across_dst(
    session: SandboxSession, clock: FakeClock
) -> None:
    channel = await _events_channel(session, "7d, 1d, 0")
    saved = await _add(session, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
    assert "Saved event" in saved.message.content
    await _tick(session)
    [new] = _posts(session, channel)
    stamp = f"<t:{int(EVENT_START.timestamp())}:F>"
    assert "New event" in new.content and stamp in new.content
    assert "@\u200beveryone" in new.embeds[0]["description"]
    assert [body["allowed_mentions"] for body in _sent(session, channel)] == [{"parse": []}]

    member = (session.guild_id, session.channel_id, session.member_id)
    listed = await session.sandbox.slash(*member, "summits list")
    assert "Civic Hack Warsaw" in listed.message.embeds[0]["description"]
    card = await session.sandbox.slash(*member, "summit", {"name": "civic hack"})
    assert card.message.embeds, card.message.content
    assert (
        stamp in card.message.embeds[0]["description"]
        and "09:00 Europe/Warsaw" in card.message.embeds[0]["description"]
    )
    assert {b["label"] for b in card.message.buttons} == {"Add to my calendar (.ics)", "Remind me"}

    seven_days = datetime(2027, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 CET, a week before 09:00 CEST
    one_day = datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    for due, count in ((seven_days, 2), (one_day, 3), (EVENT_START, 4)):
        await _at(session, clock, due - timedelta(seconds=1))
        assert len(_posts(session, channel)) == count - 1, due
        await _at(session, clock, due)
        await _tick(session)
        assert len(_posts(session, channel)) == count, due
    texts = [post.content for post in _posts(session, channel)[1:]]
    assert texts[0].startswith("Reminder") and texts[2].endswith("starts now.")


async def test_moving_an_event_moves_its_reminders_and_cancelling_posts_one_notice(
    session: SandboxSession, clock: FakeClock
) -> None:
    channel = await _events_channel(session, "1d")
    await _add(session, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
    [event] = session.bot.app.events.upcoming(session.guild_id)
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    opened = await session.sandbox.slash(
        *organiser, "summits edit", {"event": str(event.id), "start": "2027-04-02 18:00"}
    )
    assert opened.modal is not None, opened.message.content
    preview = await session.sandbox.submit_modal(opened, FORM, session.organiser_id)
    await session.sandbox.click(preview.message, _labelled(preview, "Confirm"), session.organiser_id)
    await _tick(session)
    assert len(_posts(session, channel)) == 1  # the new-event post
    await _at(session, clock, datetime(2027, 3, 29, 7, 0, tzinfo=UTC))  # the old reminder's instant
    assert len(_posts(session, channel)) == 1
    await _at(session, clock, datetime(2027, 4, 1, 16, 0, tzinfo=UTC))  # 18:00 CEST the day before
    [_, reminder] = _posts(session, channel)
    assert f"<t:{int(datetime(2027, 4, 2, 16, 0, tzinfo=UTC).timestamp())}:R>" in reminder.content

    await _add(session, {"start": "2027-04-20 10:00", "timezone": "Europe/Warsaw"}, {**FORM, "name": "Meetup"})
    [meetup] = [e for e in session.bot.app.events.upcoming(session.guild_id) if e.name == "Meetup"]
    asked = await session.sandbox.slash(*organiser, "summits cancel", {"event": str(meetup.id)})
    await session.sandbox.click(asked.message, _labelled(asked, "Cancel the event"), session.organiser_id)
    await _tick(session)
    before = len(_posts(session, channel))
    assert _posts(session, channel)[-1].content.startswith("Cancelled")
    await _at(session, clock, datetime(2027, 4, 20, 8, 0, tzinfo=UTC))
    await _tick(session)
    assert len(_posts(session, channel)) == before


async def test_reminders_survive_a_restart_and_fire_once(database_url: str, tmp_path: Path) -> None:
    clock = FakeClock(START)
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    first = await start_session(settings, clock=clock)
    try:
        channel = await _events_channel(first, "1h")
        await _add(first, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
        await _tick(first)
    finally:
        await first.stop()
    clock.set(EVENT_START - timedelta(hours=1))
    second = await start_session(settings, sandbox=Sandbox(first.sandbox.state), clock=clock)
    try:
        await _tick(second)
        await _tick(second)
        posts = _posts(second, channel)
        assert [p.content.split(":")[0] for p in posts] == ["New event", "Reminder"]
    finally:
        await second.stop()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"start": "2027-02-30 10:00"}, "not a date and time that exists"),
        ({"start": "2027-04-01 25:00"}, "not a date and time that exists"),
        ({"start": "2027-04-01 10:00", "timezone": "Europe/Atlantis"}, "not a time zone I know"),
        ({"start": "2027-04-01 10:00", "end": "2027-04-01 09:00"}, "end must come after the start"),
        ({"start": "2027-02-01 10:00"}, "already past"),
        ({"start": "soon"}, "YYYY-MM-DD HH:MM"),
    ],
)
async def test_bad_times_are_refused_before_the_form(
    session: SandboxSession, options: dict[str, Any], expected: str
) -> None:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "summits add", options
    )
    assert result.modal is None and result.message.ephemeral
    assert expected in result.message.content


async def test_a_plain_member_cannot_add_edit_or_cancel(session: SandboxSession) -> None:
    member = (session.guild_id, session.channel_id, session.member_id)
    for command, options in (("summits add", {"start": "2027-04-01 10:00"}), ("summits cancel", {"event": "1"})):
        result = await session.sandbox.slash(*member, command, options)
        assert result.modal is None and "Only organisers" in result.message.content


async def test_the_seed_summits_are_the_archive(session: SandboxSession) -> None:
    listed = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "summits list", {"past": True}
    )
    text = listed.message.embeds[0]["description"]
    assert "Heroes of Tech Code for All Summit" in text and "2018" in text
    assert text.index("2018") < text.index("2014")
    upcoming = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "summits list")
    assert "No event is coming up" in upcoming.message.embeds[0]["description"]


def _scheduled(session: SandboxSession, guild_id: int) -> list[dict[str, Any]]:
    return list(session.sandbox.state.guilds[guild_id].scheduled_events.values())


async def _settled(session: SandboxSession) -> None:
    cog = session.bot.get_cog("Summits")
    assert cog is not None
    await cog.publisher.settled()  # type: ignore[attr-defined]


async def test_the_scheduled_event_exists_once_after_restarts_and_after_a_hand_deletion(
    database_url: str, tmp_path: Path
) -> None:
    clock = FakeClock(START)
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    session = await start_session(settings, clock=clock)
    try:
        await _add(session, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
        await _settled(session)
        guild_id, organiser = session.guild_id, (session.guild_id, session.channel_id, session.organiser_id)
        [published] = _scheduled(session, guild_id)
        assert published["name"] == "Civic Hack Warsaw" and published["entity_type"] == 3
        assert published["entity_metadata"]["location"] == "Warsaw, Koszyki Hall"
        assert published["scheduled_start_time"].startswith("2027-03-30T07:00:00")
    finally:
        await session.stop()
    state = session.sandbox.state
    for _ in range(2):
        session = await start_session(settings, sandbox=Sandbox(state), clock=clock)
        try:
            await _settled(session)
            assert len(_scheduled(session, guild_id)) == 1
        finally:
            await session.stop()
    session = await start_session(settings, sandbox=Sandbox(state), clock=clock)
    try:
        await _settled(session)
        [published] = _scheduled(session, guild_id)
        session.sandbox.delete_scheduled_event(guild_id, int(published["id"]))
        for _ in range(50):
            await asyncio.sleep(0.02)
            await _settled(session)
            if _scheduled(session, guild_id):
                break
        [again] = _scheduled(session, guild_id)
        assert again["id"] != published["id"] and again["name"] == published["name"]
        [event] = session.bot.app.events.upcoming(guild_id)
        asked = await session.sandbox.slash(*organiser, "summits cancel", {"event": str(event.id)})
        await session.sandbox.click(asked.message, _labelled(asked, "Cancel the event"), organiser[2])
        await _settled(session)
        [cancelled] = _scheduled(session, guild_id)
        assert cancelled["status"] == 4
    finally:
        await session.stop()


async def test_remind_me_sends_one_direct_message_and_stop_reminding_me_stops_it(
    session: SandboxSession, clock: FakeClock
) -> None:
    await _events_channel(session, "1d")
    await _add(session, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
    member = (session.guild_id, session.channel_id, session.member_id)
    card = await session.sandbox.slash(*member, "summit", {"name": "Civic Hack Warsaw"})
    asked = await session.sandbox.click(card.message, _labelled(card, "Remind me"), session.member_id)
    assert asked.message.ephemeral and "I will send you a direct message" in asked.message.content
    [confirmation] = session.sandbox.dm_messages(session.member_id)
    assert "an hour before" in confirmation.content
    again = await session.sandbox.click(card.message, _labelled(card, "Remind me"), session.member_id)
    assert "already remind you" in again.message.content
    await _at(session, clock, EVENT_START - timedelta(hours=1))
    await _tick(session)
    [_, reminder] = session.sandbox.dm_messages(session.member_id)
    assert "You asked me to remind you" in reminder.content
    await _at(session, clock, EVENT_START)
    assert len(session.sandbox.dm_messages(session.member_id)) == 2

    await _add(session, {"start": "2027-04-20 10:00", "timezone": "Europe/Warsaw"}, {**FORM, "name": "Meetup"})
    card = await session.sandbox.slash(*member, "summit", {"name": "Meetup"})
    asked = await session.sandbox.click(card.message, _labelled(card, "Remind me"), session.member_id)
    stopped = await session.sandbox.click(asked.message, _labelled(asked, "Stop reminding me"), session.member_id)
    assert "I will not remind you" in stopped.message.content
    await _at(session, clock, datetime(2027, 4, 20, 7, 0, tzinfo=UTC))
    await _tick(session)
    assert len(session.sandbox.dm_messages(session.member_id)) == 3  # the second confirmation, no reminder


async def test_a_member_whose_direct_messages_are_closed_is_told_and_not_followed(session: SandboxSession) -> None:
    await _add(session, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
    session.sandbox.close_dms(session.member_id)
    member = (session.guild_id, session.channel_id, session.member_id)
    card = await session.sandbox.slash(*member, "summit", {"name": "Civic Hack Warsaw"})
    asked = await session.sandbox.click(card.message, _labelled(card, "Remind me"), session.member_id)
    assert asked.message.ephemeral and "cannot send you direct messages" in asked.message.content
    [event] = session.bot.app.events.upcoming(session.guild_id)
    assert not await session.bot.app.events.follows(event.id, session.member_id)


async def test_the_calendar_button_sends_an_ics_file(session: SandboxSession) -> None:
    await _add(session, {"start": "2027-03-30 09:00", "timezone": "Europe/Warsaw"})
    member = (session.guild_id, session.channel_id, session.member_id)
    card = await session.sandbox.slash(*member, "summit", {"name": "Civic Hack Warsaw"})
    sent = await session.sandbox.click(card.message, _labelled(card, "Add to my calendar (.ics)"), session.member_id)
    [attachment] = sent.message.attachments
    assert sent.message.ephemeral and attachment.filename.endswith(".ics")
    [event] = Calendar.from_ical(attachment.data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Civic Hack Warsaw"
    assert event.decoded("DTSTART") == EVENT_START and str(event["DTSTART"].params["TZID"]) == "Europe/Warsaw"


CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Chapter//Calendar//EN
X-WR-TIMEZONE:Europe/Bucharest
BEGIN:VEVENT
UID:hack-night@example.org
SEQUENCE:0
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Bucharest:20270310T190000
DTEND;TZID=Europe/Bucharest:20270310T210000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Bucharest:20270317T190000
SUMMARY:Hack night
LOCATION:Bucharest, Impact Hub
END:VEVENT
BEGIN:VEVENT
UID:open-data-day@example.org
DTSTAMP:20270101T000000Z
DTSTART;VALUE=DATE:20270306
DTEND;VALUE=DATE:20270307
SUMMARY:Open Data Day
LOCATION:Online
END:VEVENT
END:VCALENDAR
"""


async def test_a_chapter_calendar_lists_its_occurrences_and_keeps_in_step(
    session: SandboxSession, clock: FakeClock, feeds_server: FeedServer
) -> None:
    channel = await _events_channel(session, "1d")
    route = feeds_server.route(
        "/chapter.ics", Route(body=CALENDAR.replace("\n", "\r\n").encode(), content_type="text/calendar")
    )
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    followed = await session.sandbox.slash(*organiser, "summits subscribe", {"url": feeds_server.url("/chapter.ics")})
    assert "Following calendar" in followed.message.content and "4 events" in followed.message.content
    upcoming = session.bot.app.events.upcoming(session.guild_id)
    hack = [e.starts_at for e in upcoming if e.name == "Hack night"]
    assert hack == [
        datetime(2027, 3, 10, 17, 0, tzinfo=UTC),
        datetime(2027, 3, 24, 17, 0, tzinfo=UTC),
        datetime(2027, 3, 31, 16, 0, tzinfo=UTC),  # summer time from 28 March: 19:00 is 16:00 UTC
    ]
    [day] = [e for e in upcoming if e.name == "Open Data Day"]
    assert day.all_day
    listed = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "summits list")
    assert f"<t:{int(hack[2].timestamp())}:f>" in listed.message.embeds[0]["description"]
    await _tick(session)
    assert [p.content for p in _posts(session, channel)] == []  # the first read learns, it announces nothing

    route.body = (
        CALENDAR.replace("SEQUENCE:0", "SEQUENCE:1")
        .replace("T190000", "T180000")
        .replace("SUMMARY:Open Data Day", "SUMMARY:Open Data Day\nSTATUS:CANCELLED")
        .replace("\n", "\r\n")
        .encode()
    )
    clock.advance(timedelta(hours=1))
    await session.bot.app.calendars.poll_due()
    hack = [e.starts_at for e in session.bot.app.events.upcoming(session.guild_id) if e.name == "Hack night"]
    assert hack[0] == datetime(2027, 3, 10, 16, 0, tzinfo=UTC)
    await _tick(session)
    assert [p.content.split(":")[0] for p in _posts(session, channel)] == ["Cancelled"]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("<html><body>Not a calendar</body></html>", "text/html", "iCalendar"),
        ('{"events": []}', "application/json", "iCalendar"),
    ],
)
async def test_a_calendar_that_is_not_one_is_refused_and_nothing_is_stored(
    session: SandboxSession, feeds_server: FeedServer, body: str, content_type: str, expected: str
) -> None:
    feeds_server.route("/bad.ics", Route(body=body.encode(), content_type=content_type))
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    refused = await session.sandbox.slash(*organiser, "summits subscribe", {"url": feeds_server.url("/bad.ics")})
    assert expected in refused.message.content and refused.message.ephemeral
    assert await session.bot.app.calendars.followed(session.guild_id) == []


async def test_a_huge_calendar_is_refused(session: SandboxSession, feeds_server: FeedServer) -> None:
    feeds_server.huge("/huge.ics", 50 * 1024 * 1024)
    organiser = (session.guild_id, session.channel_id, session.organiser_id)
    refused = await session.sandbox.slash(*organiser, "summits subscribe", {"url": feeds_server.url("/huge.ics")})
    assert "larger than" in refused.message.content
    assert await session.bot.app.calendars.followed(session.guild_id) == []


@pytest.mark.parametrize(
    ("custom_id", "expected"),
    [
        ("ev:remind:999999", "There is no event number 999999 here."),  # an event that never was (or is gone)
        ("ev:zap:1", "This button is no longer valid: run the command again."),  # no such action
    ],
)
async def test_a_forged_event_button_is_answered_with_a_sentence(
    session: SandboxSession, custom_id: str, expected: str
) -> None:
    state = session.sandbox.state
    button = {"type": 2, "style": 2, "label": "Remind me", "custom_id": custom_id}
    old = Message(
        state.next_id(),
        session.channel_id,
        session.guild_id,
        state.bot_id,
        components=[{"type": 1, "components": [button]}],
        application_id=state.application_id,
    )
    clicked = await session.sandbox.click(session.sandbox.world.create_message(old), custom_id, session.member_id)
    assert clicked.message.ephemeral and clicked.message.content == expected
    [event] = [e for e in session.bot.app.events.past(session.guild_id) if e.name.startswith("Heroes")]
    assert not await session.bot.app.events.follows(event.id, session.member_id)
