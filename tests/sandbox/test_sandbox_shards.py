"""Sharding: guilds routed by `(guild_id >> 22) % shard_count`, DMs on shard 0, Discord's close codes, /gateway/bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from bot.sandbox import Sandbox, ShardRules, shard_of
from bot.sandbox.gateway import GUILD_MEMBERS, GUILD_PRESENCES, GUILDS
from bot.sandbox.state import Guild, Member

pytestmark = pytest.mark.asyncio


class ShardedClient(discord.AutoShardedClient):
    """An AutoShardedClient with a `/where` command answering with the shard that received it."""

    def __init__(self, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1, **options)
        self.tree = app_commands.CommandTree(self)
        self.seen: list[int] = []

        @self.tree.command(name="where", description="Which shard answers")
        async def where(interaction: discord.Interaction) -> None:
            assert interaction.guild is not None
            self.seen.append(interaction.guild.id)
            await interaction.response.send_message(f"shard {interaction.guild.shard_id}")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # no 5 s pause between shards


@asynccontextmanager
async def running(client: ShardedClient, sandbox: Sandbox) -> AsyncIterator[ShardedClient]:
    task = asyncio.create_task(client.start(sandbox.bot_token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


async def identify(sandbox: Sandbox, **fields: Any) -> tuple[int | None, list[dict[str, Any]]]:
    """IDENTIFY over a raw websocket; returns the close code (None if still open) and the dispatches received."""
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(sandbox.gateway_url + "?v=10&encoding=json") as ws:
        await ws.receive()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": "t", "intents": GUILDS, "properties": {}, **fields}})
        while True:
            try:
                message = await ws.receive(timeout=0.5)
            except TimeoutError:
                return None, frames
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                return ws.close_code, frames
            frames.append(json.loads(message.data))


async def test_guild_ids_take_turns_across_shards(sandbox: Sandbox) -> None:
    guilds = [sandbox.create_guild(f"Guild {n}") for n in range(8)]
    assert [shard_of(g.id, 2) for g in guilds] == [0, 1] * 4
    assert [shard_of(g.id, 4) for g in guilds] == [0, 1, 2, 3] * 2
    assert sorted({shard_of(g.id, 3) for g in guilds}) == [0, 1, 2]
    ids = [g.id for g in guilds]
    assert ids == sorted(ids) and len(set(ids)) == 8
    later = sandbox.create_channel(guilds[-1].id, "after")
    assert later.id > ids[-1]


async def test_each_shard_process_gets_only_its_guilds_events_and_interactions(sandbox: Sandbox) -> None:
    guilds = [sandbox.create_guild(f"Guild {n}") for n in range(4)]
    alice = sandbox.create_user("alice")
    for guild in guilds:
        sandbox.add_member(guild.id, alice.id)
    first, second = ShardedClient(shard_ids=[0], shard_count=2), ShardedClient(shard_ids=[1], shard_count=2)
    async with running(first, sandbox), running(second, sandbox):
        assert {g.id for g in first.guilds} == {guilds[0].id, guilds[2].id}
        assert {g.id for g in second.guilds} == {guilds[1].id, guilds[3].id}
        await first.tree.sync()
        for guild in guilds:
            assert guild.system_channel_id is not None
            result = await sandbox.slash(guild.id, guild.system_channel_id, alice.id, "where")
            assert result.message.content == f"shard {shard_of(guild.id, 2)}"
        assert first.seen == [guilds[0].id, guilds[2].id] and second.seen == [guilds[1].id, guilds[3].id]
        late = sandbox.create_guild("Late")  # the fifth guild: shard 0
        sandbox.create_channel(guilds[1].id, "projects")
        await sandbox.settle()
        assert first.get_guild(late.id) is not None and second.get_guild(late.id) is None
        assert second.get_guild(guilds[1].id) is not None
        assert discord.utils.get(second.get_all_channels(), name="projects") is not None
        assert discord.utils.get(first.get_all_channels(), name="projects") is None
        sessions = {s.shard: s for s in sandbox.gateway.sessions.values()}
        assert set(sessions) == {(0, 2), (1, 2)}
        sent = await (await second.fetch_user(alice.id)).send("See you at the summit")  # a DM: shard 0's event
        await sandbox.settle()
        assert [d["id"] for d in sessions[0, 2].sent("MESSAGE_CREATE") if "guild_id" not in d] == [str(sent.id)]
        assert [d for d in sessions[1, 2].sent("MESSAGE_CREATE") if "guild_id" not in d] == []


async def test_one_process_with_every_shard_sees_every_guild(sandbox: Sandbox) -> None:
    guilds = [sandbox.create_guild(f"Guild {n}") for n in range(3)]
    async with running(ShardedClient(shard_ids=[0, 1], shard_count=2), sandbox) as client:
        assert {g.id for g in client.guilds} == {g.id for g in guilds}
        assert {g.id: g.shard_id for g in client.guilds} == {g.id: shard_of(g.id, 2) for g in guilds}


@pytest.mark.sandbox(shards=ShardRules(recommended_shards=2))
async def test_auto_sharding_follows_the_recommended_count(sandbox: Sandbox) -> None:
    guilds = [sandbox.create_guild(f"Guild {n}") for n in range(2)]
    async with running(ShardedClient(), sandbox) as client:
        assert client.shard_count == 2
        assert {g.id for g in client.guilds} == {g.id for g in guilds}
        assert sorted(s.shard for s in sandbox.gateway.sessions.values() if s.shard) == [(0, 2), (1, 2)]


@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], [1], "0,1", [0, "2"]])
async def test_an_invalid_shard_is_closed_with_4010(sandbox: Sandbox, shard: object) -> None:
    code, frames = await identify(sandbox, shard=shard)
    assert (code, frames) == (4010, [])


@pytest.mark.sandbox(shards=ShardRules(guilds_per_shard=2))
async def test_too_many_guilds_for_one_session_is_closed_with_4011(sandbox: Sandbox) -> None:
    guilds = [sandbox.create_guild(f"Guild {n}") for n in range(3)]
    assert await identify(sandbox) == (4011, [])
    code, frames = await identify(sandbox, shard=[1, 2])
    assert code is None and [f["t"] for f in frames] == ["READY", "GUILD_CREATE"]
    assert frames[0]["d"]["shard"] == [1, 2] and frames[1]["d"]["id"] == str(guilds[1].id)
    assert (await identify(sandbox, shard=[0, 2]))[0] is None
    assert (await identify(sandbox, shard=[0, 1]))[0] == 4011


async def test_sharding_required_stops_discord_py_with_its_close_code(sandbox: Sandbox) -> None:
    sandbox.gateway.rules.guilds_per_shard = 0
    sandbox.create_guild("Busy")
    client = ShardedClient(shard_ids=[0], shard_count=1)
    with pytest.raises(discord.ConnectionClosed) as raised:
        await asyncio.wait_for(client.start(sandbox.bot_token), 10)
    assert raised.value.code == 4011


async def test_privileged_intents_the_application_lacks_are_closed_with_4014(sandbox: Sandbox) -> None:
    assert (await identify(sandbox, intents=GUILDS | GUILD_MEMBERS))[0] is None  # members: enabled (limited)
    assert (await identify(sandbox, intents=GUILDS | GUILD_PRESENCES))[0] == 4014
    sandbox.state.application_flags = 0
    assert (await identify(sandbox, intents=GUILDS | GUILD_MEMBERS))[0] == 4014
    intents = discord.Intents.default()
    intents.members = True
    client = discord.Client(intents=intents)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(client.start(sandbox.bot_token), 10)


@pytest.mark.sandbox(shards=ShardRules(session_starts=3, max_concurrency=16))
async def test_gateway_bot_counts_session_starts_and_recommends_shards(sandbox: Sandbox) -> None:
    sandbox.create_guild("One")
    async with aiohttp.ClientSession() as http:

        async def gateway_bot() -> dict[str, Any]:
            headers = {"Authorization": f"Bot {sandbox.bot_token}"}
            async with http.get(sandbox.api_base + "/gateway/bot", headers=headers) as response:
                assert response.headers["Content-Type"] == "application/json"
                body: dict[str, Any] = await response.json()
                return body

        before = await gateway_bot()
        assert before["url"] == sandbox.gateway_url and before["shards"] == 1
        limit = before["session_start_limit"]
        assert (limit["total"], limit["remaining"], limit["max_concurrency"]) == (3, 3, 16)
        assert 0 < limit["reset_after"] <= 24 * 3600 * 1000
        await identify(sandbox, shard=[0, 2])
        await identify(sandbox, shard=[1, 2])
        assert (await gateway_bot())["session_start_limit"]["remaining"] == 1
        await identify(sandbox)
        assert (await gateway_bot())["session_start_limit"]["remaining"] == 0
        assert (await identify(sandbox))[0] == 4004  # past the day's session starts
        bot = Member(sandbox.state.bot_id)
        for n in range(2500):  # one shard per 1,000 guilds
            sandbox.state.guilds[n << 22] = Guild(
                n << 22, f"Guild {n}", sandbox.state.bot_id, members={bot.user_id: bot}
            )
        assert (await gateway_bot())["shards"] == 3
        sandbox.gateway.rules.recommended_shards = 5
        assert (await gateway_bot())["shards"] == 5
