"""Guild scheduled events through discord.py, on the sandbox's clock: Discord's rules, limits and gateway events."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import discord
import pytest

from bot.clock import FakeClock
from bot.sandbox import DriverError, Sandbox
from bot.sandbox.permissions import CONNECT, CREATE_EVENTS, DEFAULT_BOT, MANAGE_EVENTS
from tests.sandbox.support import Harness

pytestmark = pytest.mark.asyncio

NOW = dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC)
START = NOW + dt.timedelta(days=30)


def guild_of(harness: Harness) -> discord.Guild:
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    return guild


def clock_of(sandbox: Sandbox) -> FakeClock:
    clock = sandbox.config.clock
    assert isinstance(clock, FakeClock)
    return clock


async def summit(guild: discord.Guild, name: str = "Code for All Summit", **fields: Any) -> discord.ScheduledEvent:
    start = fields.pop("start_time", START)
    defaults: dict[str, Any] = {
        "end_time": start + dt.timedelta(hours=8),
        "entity_type": discord.EntityType.external,
        "location": "Bucharest",
        "privacy_level": discord.PrivacyLevel.guild_only,
    }
    return await guild.create_scheduled_event(name=name, start_time=start, **{**defaults, **fields})


async def refused(action: Any) -> discord.HTTPException:
    with pytest.raises(discord.HTTPException) as caught:
        await action
    return caught.value


def limit_bot(harness: Harness, permissions: int) -> None:
    state = harness.sandbox.state
    guild = state.guilds[harness.guild.id]
    harness.sandbox.world.update_role(guild, harness.sandbox.bot_role(guild.id), {"permissions": permissions})


@pytest.mark.sandbox(clock=FakeClock(NOW))
async def test_create_edit_cancel_delete_round_trip(harness: Harness) -> None:
    sb = harness.sandbox
    guild = guild_of(harness)
    event = await summit(guild, description="Two days of civic tech")
    assert event.status is discord.EventStatus.scheduled
    assert (event.location, event.creator_id) == ("Bucharest", sb.state.bot_id)
    await sb.settle()
    assert guild.get_scheduled_event(event.id) is not None
    assert [e["name"] for e in sb.scheduled_events(guild.id)] == ["Code for All Summit"]
    moved = START + dt.timedelta(days=1)
    edited = await event.edit(
        name="Summit 2027", location="Taipei", start_time=moved, end_time=moved + dt.timedelta(hours=9)
    )
    assert (edited.name, edited.location, edited.start_time) == ("Summit 2027", "Taipei", moved)
    await sb.settle()
    cached = guild.get_scheduled_event(event.id)
    assert cached is not None and cached.name == "Summit 2027"
    fetched = await guild.fetch_scheduled_event(event.id)
    assert fetched.user_count == 0 and fetched.description == "Two days of civic tech"
    assert "user_count" not in sb.scheduled_events(guild.id)[0]
    canceled = await edited.cancel()
    assert canceled.status is discord.EventStatus.cancelled
    finished = await refused(canceled.edit(name="Back on"))
    assert (finished.status, finished.code) == (400, 180000)
    assert sb.exchanges[-1].response_json == {"message": "Cannot update a finished event", "code": 180000}
    await canceled.delete()
    await sb.settle()
    assert guild.get_scheduled_event(event.id) is None and sb.scheduled_events(guild.id) == []
    names = [name for name, _ in sb.dispatches if name.startswith("GUILD_SCHEDULED_EVENT_")]
    assert names == [
        "GUILD_SCHEDULED_EVENT_CREATE",
        *["GUILD_SCHEDULED_EVENT_UPDATE"] * 2,
        "GUILD_SCHEDULED_EVENT_DELETE",
    ]


@pytest.mark.sandbox(clock=FakeClock(NOW))
async def test_discords_field_rules(harness: Harness) -> None:
    guild = guild_of(harness)
    http = harness.bot.http
    cases = {
        "name": summit(guild, "n" * 101),
        "description": summit(guild, description="d" * 1001),
        "entity_metadata": summit(guild, location=""),
        "scheduled_end_time": summit(guild, end_time=START - dt.timedelta(minutes=1)),
    }
    for field, action in cases.items():
        error = await refused(action)
        assert (error.status, error.code) == (400, 50035)
        assert list(harness.sandbox.exchanges[-1].response_json["errors"]) == [field]
    assert (await refused(summit(guild, location="x" * 101))).code == 50035
    bare = {"name": "Summit", "privacy_level": 2, "entity_type": 3, "scheduled_start_time": START.isoformat()}
    missing = await refused(http.create_guild_scheduled_event(guild.id, **bare))
    assert missing.code == 50035
    assert set(harness.sandbox.exchanges[-1].response_json["errors"]) == {"entity_metadata", "scheduled_end_time"}
    past = await refused(summit(guild, start_time=NOW - dt.timedelta(minutes=1)))
    assert past.code == 50035
    soon = await summit(guild, start_time=NOW + dt.timedelta(minutes=1))
    backwards = await refused(soon.edit(status=discord.EventStatus.completed))
    assert backwards.code == 50035
    assert (await soon.start()).status is discord.EventStatus.active
    assert (await refused(soon.edit(status=discord.EventStatus.scheduled))).code == 50035


@pytest.mark.sandbox(clock=FakeClock(NOW))
async def test_a_guild_holds_at_most_100_uncompleted_events(harness: Harness) -> None:
    guild = guild_of(harness)
    events = [await summit(guild, f"Meetup {n}", start_time=START + dt.timedelta(days=n)) for n in range(100)]
    full = await refused(summit(guild, "One too many"))
    assert (full.status, full.code) == (400, 30038)
    assert harness.sandbox.exchanges[-1].response_json == {
        "message": "Maximum number of uncompleted guild scheduled events reached (100)",
        "code": 30038,
    }
    await events[0].cancel()
    assert (await summit(guild, "Now it fits")).name == "Now it fits"


@pytest.mark.sandbox(clock=FakeClock(NOW))
async def test_manage_events_or_create_events_for_the_bots_own(harness: Harness) -> None:
    sb = harness.sandbox
    guild = guild_of(harness)
    organiser = sb.create_user("organiser")
    sb.add_member(guild.id, organiser.id, [sb.create_role(guild.id, "Organisers", MANAGE_EVENTS).id])
    theirs = sb.create_scheduled_event(
        guild.id, organiser.id, "Hack night", START, START + dt.timedelta(hours=3), location="Taipei"
    )
    await sb.settle()
    limit_bot(harness, DEFAULT_BOT & ~MANAGE_EVENTS)
    own = await summit(guild)
    await own.edit(name="Summit, renamed")
    other = guild.get_scheduled_event(int(theirs["id"]))
    assert other is not None and other.creator_id == organiser.id
    assert (await refused(other.edit(name="Taken over"))).code == 50013
    assert (await refused(other.delete())).code == 50013
    limit_bot(harness, DEFAULT_BOT & ~(MANAGE_EVENTS | CREATE_EVENTS))
    assert (await refused(summit(guild, "No rights"))).code == 50013
    limit_bot(harness, DEFAULT_BOT)
    await other.delete()
    voice = sb.create_channel(guild.id, "Voice call", type=2)
    await sb.settle()
    channel = guild.get_channel(voice.id)
    assert isinstance(channel, discord.VoiceChannel)
    call = await guild.create_scheduled_event(
        name="Call", start_time=START, channel=channel, privacy_level=discord.PrivacyLevel.guild_only
    )
    assert call.entity_type is discord.EntityType.voice and call.channel_id == voice.id
    sb.set_overwrite(voice.id, sb.bot_role(guild.id).id, deny=CONNECT)
    assert (await refused(call.edit(name="Muted call"))).code == 50013
    stage = {"name": "Stage", "privacy_level": 2, "entity_type": 1, "channel_id": voice.id}
    wrong = await refused(
        harness.bot.http.create_guild_scheduled_event(guild.id, scheduled_start_time=START.isoformat(), **stage)
    )
    assert wrong.code == 50035


@pytest.mark.sandbox(clock=FakeClock(NOW))
async def test_an_admin_deleting_an_event_reaches_on_scheduled_event_delete(harness: Harness) -> None:
    sb = harness.sandbox
    guild = guild_of(harness)
    event = await summit(guild)
    await sb.settle()
    deleted = asyncio.create_task(harness.bot.wait_for("scheduled_event_delete", timeout=5))
    sb.delete_scheduled_event(guild.id, event.id)
    assert (await deleted).id == event.id
    assert guild.get_scheduled_event(event.id) is None and sb.scheduled_events(guild.id) == []
    gone = await refused(event.edit(name="Still here?"))
    assert (gone.status, gone.code) == (404, 10070)
    with pytest.raises(DriverError):
        sb.delete_scheduled_event(guild.id, event.id)


@pytest.mark.sandbox(clock=FakeClock(NOW))
async def test_external_events_start_and_end_on_the_sandboxs_clock(harness: Harness) -> None:
    sb = harness.sandbox
    guild = guild_of(harness)
    event = await summit(guild)
    clock_of(sb).set(START)
    updated = asyncio.create_task(harness.bot.wait_for("scheduled_event_update", timeout=5))
    assert [e["status"] for e in sb.scheduled_events(guild.id)] == [2]
    before, after = await updated
    assert (before.status, after.status) == (discord.EventStatus.scheduled, discord.EventStatus.active)
    assert (await guild.fetch_scheduled_event(event.id)).status is discord.EventStatus.active
    clock_of(sb).advance(dt.timedelta(hours=8))
    completed = await guild.fetch_scheduled_event(event.id)
    assert completed.status is discord.EventStatus.completed
    assert (await refused(completed.edit(name="Encore"))).code == 180000
