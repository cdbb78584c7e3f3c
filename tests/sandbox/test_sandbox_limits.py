"""The nonce window and Discord's rate limits, on a clock the tests move, and discord.py recovering from them."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import FakeClock
from bot.sandbox import Bucket, Sandbox
from tests.sandbox.support import Harness

pytestmark = pytest.mark.asyncio

MESSAGES = ("POST", "/channels/{channel_id}/messages")


async def call(sandbox: Sandbox, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, sandbox.api_base + path, json=body, headers={"Authorization": "Bot x"}) as response,
    ):
        data = await response.json() if response.status != 204 else None
        return response.status, data, dict(response.headers)


def clock_of(sandbox: Sandbox) -> FakeClock:
    clock = sandbox.config.clock
    assert isinstance(clock, FakeClock)
    return clock


def advance(sandbox: Sandbox, seconds: float) -> None:
    clock_of(sandbox).advance(dt.timedelta(seconds=seconds))


def text_channel(harness: Harness) -> discord.TextChannel:
    channel = harness.bot.get_channel(harness.channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


@pytest.mark.sandbox(clock=FakeClock())
async def test_enforce_nonce_returns_the_first_message_within_the_window(harness: Harness) -> None:
    sb = harness.sandbox
    channel = text_channel(harness)
    first = await channel.send("Summit tomorrow!", nonce="delivery-7")
    created = sum(name == "MESSAGE_CREATE" for name, _ in sb.dispatches)
    advance(sb, 299)
    again = await channel.send("Summit tomorrow!", nonce="delivery-7")
    assert again.id == first.id
    assert sum(name == "MESSAGE_CREATE" for name, _ in sb.dispatches) == created
    assert sb.exchanges[-1].request_json["enforce_nonce"] is True
    numbered = await channel.send("Summit tomorrow!", nonce=4242)
    assert numbered.id != first.id and (await channel.send("Summit tomorrow!", nonce=4242)).id == numbered.id
    advance(sb, 2)
    late = await channel.send("Summit tomorrow!", nonce="delivery-7")
    assert late.id != first.id
    assert [m.content for m in sb.messages(harness.channel_id)].count("Summit tomorrow!") == 3


@pytest.mark.sandbox(clock=FakeClock())
async def test_a_nonce_is_only_enforced_when_asked_and_per_channel(harness: Harness) -> None:
    sb = harness.sandbox
    other = sb.create_channel(harness.guild.id, "elsewhere")
    path = f"/channels/{harness.channel_id}/messages"
    _, first, _ = await call(sb, "POST", path, {"content": "a", "nonce": "n1", "enforce_nonce": True})
    _, unenforced, _ = await call(sb, "POST", path, {"content": "a", "nonce": "n1"})
    _, elsewhere, _ = await call(sb, "POST", f"/channels/{other.id}/messages", {"content": "a", "nonce": "n1"})
    assert len({first["id"], unenforced["id"], elsewhere["id"]}) == 3
    assert unenforced["nonce"] == "n1"


@pytest.mark.sandbox(clock=FakeClock(), rate_limits=True)
async def test_five_messages_per_five_seconds_per_channel(sandbox: Sandbox) -> None:
    guild = sandbox.create_guild("Limits")
    channel, other = guild.system_channel_id, sandbox.create_channel(guild.id, "other").id
    remaining = []
    for index in range(5):
        status, _, headers = await call(sandbox, "POST", f"/channels/{channel}/messages", {"content": str(index)})
        assert status == 200 and headers["X-RateLimit-Limit"] == "5" and headers["Via"]
        remaining.append(headers["X-RateLimit-Remaining"])
    assert remaining == ["4", "3", "2", "1", "0"]
    advance(sandbox, 2)
    status, body, headers = await call(sandbox, "POST", f"/channels/{channel}/messages", {"content": "6"})
    assert status == 429
    assert body == {"message": "You are being rate limited.", "retry_after": 3.0, "global": False, "code": 0}
    assert headers["X-RateLimit-Scope"] == "user" and headers["Retry-After"] == "3"
    assert float(headers["X-RateLimit-Reset-After"]) == 3.0 and headers["X-RateLimit-Remaining"] == "0"
    assert float(headers["X-RateLimit-Reset"]) == clock_of(sandbox).now().timestamp() + 3
    status, _, other_headers = await call(sandbox, "POST", f"/channels/{other}/messages", {"content": "x"})
    assert status == 200 and other_headers["X-RateLimit-Bucket"] == headers["X-RateLimit-Bucket"]
    advance(sandbox, 3)
    status, _, headers = await call(sandbox, "POST", f"/channels/{channel}/messages", {"content": "6"})
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"
    assert len(sandbox.messages(channel)) == 6


@pytest.mark.sandbox(clock=FakeClock(), rate_limits=True)
async def test_fifty_requests_per_second_globally(sandbox: Sandbox) -> None:
    for _ in range(50):
        assert (await call(sandbox, "GET", "/users/@me"))[0] == 200
    status, body, headers = await call(sandbox, "GET", "/gateway/bot")
    assert status == 429 and body["global"] is True and body["retry_after"] == 1.0
    assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"
    advance(sandbox, 1)
    assert (await call(sandbox, "GET", "/gateway/bot"))[0] == 200


async def test_rate_limits_are_off_unless_switched_on(sandbox: Sandbox) -> None:
    guild = sandbox.create_guild("Unlimited")
    for index in range(7):
        status, _, headers = await call(
            sandbox, "POST", f"/channels/{guild.system_channel_id}/messages", {"content": str(index)}
        )
        assert status == 200 and "X-RateLimit-Limit" not in headers


@pytest.mark.sandbox(rate_limits=True)
async def test_discord_py_waits_out_a_channel_bucket_it_did_not_know_was_empty(harness: Harness) -> None:
    sb = harness.sandbox
    sb.rate_limits.buckets[MESSAGES] = Bucket(5, 0.5)
    for index in range(5):
        await call(sb, "POST", f"/channels/{harness.channel_id}/messages", {"content": f"raw {index}"})
    channel = text_channel(harness)
    sent = await asyncio.gather(*(channel.send(f"bot {index}") for index in range(7)))
    assert len({m.id for m in sent}) == 7
    statuses = [e.status for e in sb.exchanges if e.route_template == MESSAGES[1]]
    assert 429 in statuses and statuses.count(200) == 12
    assert len(sb.messages(harness.channel_id)) == 12


@pytest.mark.sandbox(rate_limits=True)
async def test_discord_py_recovers_from_the_global_limit(harness: Harness) -> None:
    sb = harness.sandbox
    sb.rate_limits.global_limit, sb.rate_limits.global_window = 4, 0.3
    sb.rate_limits.reset()
    guilds = await asyncio.gather(*(harness.bot.fetch_guild(harness.guild.id) for _ in range(10)))
    assert {g.id for g in guilds} == {harness.guild.id}
    limited = [e for e in sb.exchanges if e.status == 429]
    assert limited and all(e.response_json["global"] for e in limited)
