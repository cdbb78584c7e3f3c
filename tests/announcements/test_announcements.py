"""Local times in IANA zones, drafts and the schedule, without Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.announcements.service import KIND, AnnouncementService, Draft, payload
from bot.clock import FakeClock
from bot.delivery.outbox import CANCELLED, PENDING
from bot.errors import UserError
from bot.times import complete_zones, local_text, parse_local
from db.models import Delivery

NOW = datetime(2027, 10, 1, tzinfo=UTC)


def test_a_local_time_is_read_in_its_zone_on_either_side_of_a_dst_change() -> None:
    assert parse_local("2027-10-30 09:00", "Europe/Bucharest", NOW) == datetime(2027, 10, 30, 6, 0, tzinfo=UTC)
    assert parse_local("2027-11-01 09:00", "Europe/Bucharest", NOW) == datetime(2027, 11, 1, 7, 0, tzinfo=UTC)
    assert parse_local("2027-10-02 9:05", "America/Mexico_City", NOW) == datetime(2027, 10, 2, 15, 5, tzinfo=UTC)


def test_the_repeated_hour_of_a_dst_change_means_its_first_occurrence() -> None:
    assert parse_local("2027-10-31 03:30", "Europe/Bucharest", NOW) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2027-02-30 10:00", "UTC", "not a date and time that exists"),
        ("2027-10-01 24:00", "UTC", "not a date and time that exists"),
        ("2028-03-26 03:30", "Europe/Bucharest", "the clocks skip that hour"),
        ("2027-09-30 23:59", "UTC", "already past"),
        ("2027-10-01 03:00", "Asia/Taipei", "already past"),
        ("2027-10-02 10:00", "Europe/Atlantis", "not a time zone I know"),
        ("2027-10-02 10:00", "../../etc/passwd", "not a time zone I know"),
        ("tomorrow", "UTC", "YYYY-MM-DD HH:MM"),
        ("2029-10-02 10:00", "UTC", "at most a year ahead"),
    ],
)
def test_bad_times_are_refused_with_a_sentence(text: str, zone: str, expected: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_local(text, zone, NOW)
    assert expected in str(refused.value)


@given(st.text(max_size=40), st.sampled_from(["UTC", "Europe/Bucharest", "Asia/Taipei", "Nowhere/Else", ""]))
def test_any_typed_time_is_an_instant_in_the_future_or_a_user_error(text: str, zone: str) -> None:
    try:
        instant = parse_local(text, zone, NOW)
    except UserError:
        return
    assert NOW < instant <= NOW + timedelta(days=366) and instant.tzinfo is not None
    assert local_text(instant, zone) == datetime.strptime(text.strip().replace("T", " "), "%Y-%m-%d %H:%M").strftime(
        "%Y-%m-%d %H:%M"
    )


def test_zones_complete_by_prefix_then_by_part() -> None:
    assert complete_zones("europe/buc") == ["Europe/Bucharest"]
    assert complete_zones("taipei") == ["Asia/Taipei"]
    assert complete_zones("mexico city")[0] == "America/Mexico_City"
    assert len(complete_zones("")) == 25 and len(complete_zones("a")) == 25


@pytest.fixture
def service(sessions: async_sessionmaker[AsyncSession]) -> AnnouncementService:
    return AnnouncementService(sessions, FakeClock(NOW))


def _draft(
    service: AnnouncementService, when: str | None = "2027-10-02 10:00", channels: list[int] | None = None
) -> Draft:
    return service.draft(
        guild_id=1, author_id=2, channel_ids=channels or [10, 11], zone_name="Europe/Bucharest", when=when, role_id=None
    )


def test_a_draft_refuses_over_long_or_empty_text_and_too_many_channels(service: AnnouncementService) -> None:
    draft = _draft(service)
    with pytest.raises(UserError, match="at most 256"):
        draft.with_text("x" * 257, "")
    with pytest.raises(UserError, match="at most 4000"):
        draft.with_text("t", "x" * 4001)
    with pytest.raises(UserError, match="needs a title"):
        draft.with_text(" \n", "body")
    with pytest.raises(UserError, match="between 1 and 5"):
        _draft(service, channels=list(range(1, 7)))
    assert draft.with_text(" Title ", " Body ").title == "Title"


def test_the_post_mentions_only_the_chosen_role_and_crossposts() -> None:
    post = payload(Draft(1, 2, (3,), "UTC", "@everyone", "<@&9>", role_id=7))
    assert post.content == "<@&7>" and post.mention_role_id == 7 and post.crosspost
    assert post.embeds == [{"title": "@everyone", "description": "<@&9>", "color": 0x2B6CB0}]


async def test_scheduling_writes_one_delivery_per_channel_and_cancel_stops_them(
    service: AnnouncementService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    scheduled = await service.schedule(_draft(service).with_text("Hello", "World"))
    assert scheduled.due_at == datetime(2027, 10, 2, 7, 0, tzinfo=UTC) and scheduled.local_time == "2027-10-02 10:00"
    assert [s.id for s in await service.scheduled(1)] == [scheduled.id]
    assert await service.scheduled(2) == []
    async with sessions() as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.kind == KIND))).all()
    assert sorted(r.channel_id for r in rows) == [10, 11] and {r.state for r in rows} == {PENDING}
    with pytest.raises(UserError, match="no scheduled announcement"):
        await service.cancel(2, scheduled.id)
    await service.cancel(1, scheduled.id)
    async with sessions() as session:
        states = (await session.scalars(select(Delivery.state).where(Delivery.kind == KIND))).all()
    assert set(states) == {CANCELLED} and await service.scheduled(1) == []


async def test_a_time_that_passed_while_writing_is_refused(service: AnnouncementService) -> None:
    draft = _draft(service, when="2027-10-01 03:05").with_text("Soon", "")
    service._clock.set(NOW + timedelta(minutes=10))  # type: ignore[attr-defined]
    with pytest.raises(UserError, match="has passed while you were writing"):
        await service.schedule(draft)
    assert await service.scheduled(1) == []
