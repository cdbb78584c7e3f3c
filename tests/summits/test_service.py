"""Events in the database: reminders planned in the outbox, followers, the directory's summits, Discord's events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.delivery.outbox import CANCELLED, PENDING
from bot.directory.service import SummitInfo
from bot.errors import UserError
from bot.guilds.resources import GuildResources
from bot.guilds.settings import GuildSettingsService
from bot.summits.events import EventDraft, draft_times
from bot.summits.scheduled import Listing, Published, reconcile
from bot.summits.service import EventService
from db.models import Delivery

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
GUILD, CHANNEL, OTHER_GUILD, OTHER_CHANNEL = 10, 11, 20, 21


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def events(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> EventService:
    settings = GuildSettingsService(sessions)
    await settings.update(GUILD, events_channel_id=CHANNEL, reminder_offsets="7d, 1d, 0")
    await settings.update(OTHER_GUILD, events_channel_id=OTHER_CHANNEL, reminder_offsets="1h")
    service = EventService(sessions, clock)
    await service.load()
    return service


def _draft(start: str = "2027-03-30 09:00", name: str = "Civic Hack") -> EventDraft:
    zone, starts_at, ends_at = draft_times(start, None, "Europe/Warsaw", NOW)
    return EventDraft(GUILD, 1, zone, starts_at, ends_at).with_text(name, "Warsaw", "", "")


async def _rows(sessions: async_sessionmaker[AsyncSession], state: str = PENDING) -> list[tuple[str, str, datetime]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.kind, Delivery.key, Delivery.next_attempt_at)
            .where(Delivery.state == state)
            .order_by(Delivery.next_attempt_at)
        )
        return [(row.kind, row.key.split(":")[1] if ":" in row.key else "", row.next_attempt_at) for row in rows]


async def test_adding_plans_the_announcement_and_each_reminder_in_its_guild(
    events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event = await events.add(_draft())
    assert [(kind, what) for kind, what, _ in await _rows(sessions)] == [
        ("event-new", ""),
        ("event-reminder", "7d"),
        ("event-reminder", "1d"),
        ("event-reminder", "0"),
    ]
    assert events.upcoming(GUILD) == [event] and events.upcoming(OTHER_GUILD) == []


async def test_moving_cancels_the_old_reminders_and_plans_new_ones(
    events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event = await events.add(_draft())
    moved = replace(_draft("2027-04-02 18:00"), event_id=event.id, version=event.version)
    await events.edit(moved)
    pending = [(kind, what, due) for kind, what, due in await _rows(sessions) if kind == "event-reminder"]
    assert [due for *_, due in pending] == [
        datetime(2027, 3, 26, 17, 0, tzinfo=UTC),  # 18:00 CET, before the clocks change
        datetime(2027, 4, 1, 16, 0, tzinfo=UTC),
        datetime(2027, 4, 2, 16, 0, tzinfo=UTC),
    ]
    assert len([row for row in await _rows(sessions, CANCELLED) if row[0] == "event-reminder"]) == 3
    with pytest.raises(UserError, match="changed this event meanwhile"):
        await events.edit(moved)


async def test_cancelling_drops_the_reminders_and_posts_one_notice(
    events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event = await events.add(_draft())
    await events.cancel(GUILD, event.id)
    assert [kind for kind, *_ in await _rows(sessions)] == ["event-new", "event-cancelled"]
    assert events.upcoming(GUILD) == [] and events.past(GUILD)[0].status == "cancelled"
    with pytest.raises(UserError):
        await events.cancel(GUILD, event.id)
    with pytest.raises(UserError):
        await events.cancel(OTHER_GUILD, event.id)


async def test_a_follower_gets_one_direct_reminder_an_hour_before(
    events: EventService, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    event = await events.add(_draft())
    assert await events.follow(GUILD, event.id, 99, 555, "pl")
    assert not await events.follow(GUILD, event.id, 99, 555, "pl")
    direct = [due for kind, _, due in await _rows(sessions) if kind == "event-direct"]
    assert direct == [datetime(2027, 3, 30, 6, 0, tzinfo=UTC)]
    assert await events.unfollow(event.id, 99)
    assert [kind for kind, *_ in await _rows(sessions) if kind == "event-direct"] == []
    clock.set(datetime(2027, 3, 30, 6, 30, tzinfo=UTC))
    await events.follow(GUILD, event.id, 98, 556, None)
    assert [due for kind, _, due in await _rows(sessions) if kind == "event-direct"] == [event.starts_at]


async def test_network_summits_come_from_the_directory_and_reach_every_guild(
    events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old = SummitInfo("berlin-2014", "First meeting", "Berlin", "DE", None, "Europe/Berlin", 2014, None, (), None)
    future = replace(old, key="next", name="Next summit", starts_at=datetime(2027, 6, 1, 7, 0, tzinfo=UTC), year=2027)
    await events.sync_directory([old, future])
    await events.sync_directory([old, future])
    assert [e.name for e in events.past(GUILD)] == ["First meeting"]
    assert [e.name for e in events.upcoming(OTHER_GUILD)] == ["Next summit"]
    reminders = [(kind, what) for kind, what, _ in await _rows(sessions)]
    assert reminders.count(("event-reminder", "1h")) == 1 and reminders.count(("event-reminder", "7d")) == 1


class FakeGuildEvents:
    """Discord's scheduled events of one guild, in memory."""

    def __init__(self) -> None:
        self.events: dict[int, Published] = {}
        self.calls: list[str] = []
        self._next = 1000

    async def published(self) -> list[Published]:
        return list(self.events.values())

    async def create(self, listing: Listing) -> int:
        self._next += 1
        self.events[self._next] = Published(self._next, listing, mine=True, open=True)
        self.calls.append("create")
        return self._next

    async def update(self, event_id: int, listing: Listing) -> None:
        self.events[event_id] = replace(self.events[event_id], listing=listing)
        self.calls.append("update")

    async def cancel(self, event_id: int) -> None:
        self.events[event_id] = replace(self.events[event_id], open=False)
        self.calls.append("cancel")

    async def remove(self, event_id: int) -> None:
        del self.events[event_id]
        self.calls.append("remove")


async def test_scheduled_events_are_made_once_fixed_adopted_and_called_off(
    events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    port, resources = FakeGuildEvents(), GuildResources(sessions)
    event = await events.add(_draft())
    await reconcile(GUILD, port, events, resources)
    await reconcile(GUILD, port, events, resources)
    assert port.calls == ["create"]
    moved = await events.edit(replace(_draft("2027-03-31 09:00"), event_id=event.id, version=event.version))
    await reconcile(GUILD, port, events, resources)
    assert port.calls[-1] == "update" and next(iter(port.events.values())).listing.starts_at == moved.starts_at
    await resources.forget(GUILD, f"event:{event.id}")  # as if the process died before storing the link
    await reconcile(GUILD, port, events, resources)
    assert port.calls[-1] == "update" and len(port.events) == 1  # adopted, not made again
    port.events.clear()  # deleted by hand
    await reconcile(GUILD, port, events, resources)
    assert port.calls[-1] == "create" and len(port.events) == 1
    await events.cancel(GUILD, event.id)
    await reconcile(GUILD, port, events, resources)
    assert port.calls[-1] == "cancel" and not next(iter(port.events.values())).open


async def test_only_the_nearest_hundred_are_published(
    events: EventService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    port, resources = FakeGuildEvents(), GuildResources(sessions)
    for day in range(3):
        port.events[day] = Published(
            day, Listing("theirs", "", "x", NOW, NOW + timedelta(hours=1)), mine=False, open=True
        )
    first = NOW + timedelta(days=2)
    for n in range(99):
        start = (first + timedelta(hours=n)).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        zone, starts_at, ends_at = draft_times(start, None, "UTC", NOW)
        await events.add(EventDraft(GUILD, 1, zone, starts_at, ends_at).with_text(f"Meetup {n}", "Online x", "", ""))
    outcome = await reconcile(GUILD, port, events, resources)
    assert outcome.created == 97 and len(port.events) == 100
    assert {p.listing.name for p in port.events.values() if p.mine} == {f"Meetup {n}" for n in range(97)}
