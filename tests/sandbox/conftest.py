"""Fixtures: a running sandbox and a real discord.py bot connected to it.

Every REST exchange of a test is checked against Discord's OpenAPI spec at teardown
(`tests.openapi_validator.exchange_violations`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio

from bot.sandbox import Sandbox, point_discord_at
from tests.openapi_validator import exchange_violations, format_report
from tests.sandbox.support import Harness, build_bot


@pytest_asyncio.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """A started sandbox that discord.py points at; `@pytest.mark.sandbox(...)` passes it options."""
    marker = request.node.get_closest_marker("sandbox")
    server = Sandbox(**(marker.kwargs if marker else {}))
    await server.start()
    restore = point_discord_at(server)
    try:
        yield server
    finally:
        restore()
        await server.stop()
    problems = exchange_violations(server.exchanges)
    assert not problems, format_report(problems)


@pytest_asyncio.fixture
async def harness(sandbox: Sandbox) -> AsyncIterator[Harness]:
    """The test bot, logged in, ready and with its commands synced to the guild."""
    guild = sandbox.create_guild("Code for All")
    alice = sandbox.create_user("alice")
    sandbox.add_member(guild.id, alice.id)
    bot = build_bot()
    task = asyncio.create_task(bot.start(sandbox.bot_token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        bot.tree.copy_global_to(guild=discord.Object(guild.id))
        await bot.tree.sync(guild=discord.Object(guild.id))
        yield Harness(sandbox, bot, guild, alice)
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
