"""The gateway: READY/GUILD_CREATE, RESUME after a drop, re-IDENTIFY after an invalid session."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import discord
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import Harness

pytestmark = pytest.mark.asyncio


async def test_ready_state_reaches_the_cache(harness: Harness) -> None:
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None and guild.name == "Code for All"
    assert guild.me.top_role.managed and guild.me.top_role.is_bot_managed()
    assert {m.name for m in guild.members} == {"CivicBot", "alice", "Code for All owner"}
    assert guild.owner_id == harness.guild.owner_id
    assert [c.name for c in guild.text_channels] == ["general"]
    assert harness.bot.application_id == harness.sandbox.state.application_id


async def test_guild_created_after_connect_is_dispatched(harness: Harness) -> None:
    late = harness.sandbox.create_guild("Code for Japan", locale="ja")
    await harness.sandbox.settle()
    guild = harness.bot.get_guild(late.id)
    assert guild is not None and str(guild.preferred_locale) == "ja"


async def test_drop_then_resume_still_answers(harness: Harness) -> None:
    sb = harness.sandbox
    session_ids = set(sb.gateway.sessions)
    await sb.drop_gateway(resume=True)
    await asyncio.wait_for(harness.bot.resumed.wait(), 5)
    assert set(sb.gateway.sessions) == session_ids
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Taiwan"})
    assert result.message.content == "Chapter Taiwan"


async def test_events_missed_while_disconnected_are_replayed(harness: Harness) -> None:
    sb = harness.sandbox
    await sb.drop_gateway(resume=True, wait=False)
    role = sb.create_role(harness.guild.id, "Organisers")
    await sb.wait_until_connected()
    await sb.settle()
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None and guild.get_role(role.id) is not None


async def test_invalid_session_makes_the_client_identify_again(harness: Harness) -> None:
    sb = harness.sandbox
    before = set(sb.gateway.sessions)
    await sb.drop_gateway(resume=False)
    assert set(sb.gateway.sessions).isdisjoint(before)
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Japan"})
    assert result.message.content == "Chapter Japan"
    assert [name for name, _ in sb.dispatches].count("READY") == 2


async def test_raw_protocol_hello_heartbeat_and_intents(sandbox: Sandbox) -> None:
    guild = sandbox.create_guild("Raw")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(sandbox.gateway_url + "?v=10&encoding=json") as ws,
    ):
        hello = json.loads((await ws.receive()).data)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert json.loads((await ws.receive()).data)["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": "t", "intents": 1, "properties": {}}})
        ready = json.loads((await ws.receive()).data)
        assert ready["t"] == "READY" and ready["s"] == 1
        assert ready["d"]["resume_gateway_url"] == sandbox.gateway_url
        assert ready["d"]["guilds"] == [{"id": str(guild.id), "unavailable": True}]
        created = json.loads((await ws.receive()).data)
        assert created["t"] == "GUILD_CREATE" and created["s"] == 2
        assert [m["user"]["username"] for m in created["d"]["members"]] == ["CivicBot"]
        user = sandbox.create_user("carol")
        sandbox.add_member(guild.id, user.id)
        sandbox.create_channel(guild.id, "Projects")
        event = json.loads((await ws.receive()).data)
        assert event["t"] == "CHANNEL_CREATE" and event["s"] == 3 and event["d"]["name"] == "projects"


async def test_auto_sharded_client_uses_gateway_bot(sandbox: Sandbox) -> None:
    guild = sandbox.create_guild("Sharded")
    bot = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(sandbox.bot_token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        assert bot.shard_count == 1
        assert bot.get_guild(guild.id) is not None
        assert [s.shard for s in sandbox.gateway.sessions.values()] == [(0, 1)]
        assert "/gateway/bot" in [e.route_template for e in sandbox.exchanges]
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


async def test_the_dispatch_log_keeps_the_newest_as_text(harness: Harness) -> None:
    import gc
    from collections import deque

    sb = harness.sandbox
    sb.gateway.dispatched = deque(sb.gateway.dispatched, maxlen=3)
    roles = [sb.create_role(harness.guild.id, f"Team {n}") for n in range(5)]
    await sb.settle()
    assert len(sb.dispatches) == 3
    (session,) = sb.gateway.sessions.values()
    newest = [text for _, text in list(session.backlog)[-3:]]
    assert [d.frame for d in sb.dispatches] == newest
    assert all(d.event.startswith("GUILD_ROLE_") and "role" in d.data for d in sb.dispatches)
    assert all(not gc.is_tracked(d.frame) for d in sb.dispatches)
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None and all(guild.get_role(r.id) for r in roles)


async def test_finished_interactions_can_be_forgotten_without_touching_the_rest(harness: Harness) -> None:
    sb = harness.sandbox
    kept = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Taiwan"})
    gone = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "chapter", {"name": "Japan"})
    assert gone.message is not None
    sb.state.forget_interactions([gone.record.id])
    assert gone.record.id not in sb.state.interactions and kept.record.id in sb.state.interactions
    assert [m.content for m in sb.state.channel_messages_of(harness.channel_id)] == ["Chapter Taiwan"]
