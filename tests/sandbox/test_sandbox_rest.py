"""Discord's REST rules as the sandbox enforces them, seen through discord.py and raw HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import discord
import pytest

from bot.sandbox import Sandbox
from bot.sandbox.permissions import ADMINISTRATOR, MANAGE_ROLES, VIEW_CHANNEL
from tests.sandbox.support import Harness

pytestmark = pytest.mark.asyncio


def text_channel(harness: Harness, channel_id: int | None = None) -> discord.TextChannel:
    channel = harness.bot.get_channel(channel_id or harness.channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def raw(
    sandbox: Sandbox, method: str, path: str, body: Any = None, token: str | None = "x"
) -> tuple[int, Any, str]:
    headers = {"Authorization": f"Bot {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, sandbox.api_base + path, json=body, headers=headers) as response,
    ):
        data = await response.json() if response.status != 204 else None
        return response.status, data, response.headers.get("Content-Type", "")


async def test_role_and_channel_created_by_a_command_reach_the_cache(harness: Harness) -> None:
    sb = harness.sandbox
    result = await sb.slash(harness.guild.id, harness.channel_id, harness.alice.id, "setup", {"chapter": "Taiwan"})
    role_id, channel_id = (int(part.split("=")[1]) for part in result.message.content.split())
    await sb.settle()
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    role, channel = guild.get_role(role_id), guild.get_channel(channel_id)
    assert role is not None and role.name == "Taiwan member" and role.mentionable
    assert isinstance(channel, discord.TextChannel) and channel.name == "taiwan-chapter"
    assert channel.topic == "Code for Taiwan"
    events = [name for name, _ in sb.dispatches]
    assert "GUILD_ROLE_CREATE" in events and "CHANNEL_CREATE" in events
    assert role < guild.me.top_role


async def test_roles_at_or_above_the_bot_are_refused(harness: Harness) -> None:
    sb = harness.sandbox
    board = sb.create_role(harness.guild.id, "Board", position=sb.bot_role(harness.guild.id).position + 1)
    helper = sb.create_role(harness.guild.id, "Helper")
    result = await sb.slash(
        harness.guild.id, harness.channel_id, harness.alice.id, "promote", {"member": "alice", "role": "@Board"}
    )
    assert result.message.content == "forbidden 50013"
    assert board.id not in sb.state.guilds[harness.guild.id].members[harness.alice.id].roles
    result = await sb.slash(
        harness.guild.id,
        harness.channel_id,
        harness.alice.id,
        "promote",
        {"member": harness.alice.id, "role": helper.id},
    )
    assert result.message.content == "gave Helper to alice"
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    member = guild.get_member(harness.alice.id)
    assert member is not None and [r.name for r in member.roles[1:]] == ["Helper"]
    cached_board = guild.get_role(board.id)
    assert cached_board is not None
    with pytest.raises(discord.Forbidden) as refused:
        await cached_board.edit(name="Bored")
    assert refused.value.code == 50013
    with pytest.raises(discord.Forbidden):
        await guild.create_role(name="Admins", permissions=discord.Permissions(ADMINISTRATOR))
    with pytest.raises(discord.Forbidden):
        await guild.get_role(helper.id).edit(position=board.position)  # type: ignore[union-attr]


async def test_missing_manage_roles_and_channel_visibility(sandbox: Sandbox) -> None:
    guild = sandbox.create_guild("Small", bot_permissions=VIEW_CHANNEL)
    status, body, _ = await raw(sandbox, "POST", f"/guilds/{guild.id}/roles", {"name": "x"})
    assert (status, body["code"]) == (403, 50013)
    hidden = sandbox.create_channel(guild.id, "private")
    sandbox.set_overwrite(hidden.id, guild.id, deny=VIEW_CHANNEL)
    status, body, _ = await raw(sandbox, "GET", f"/channels/{hidden.id}")
    assert (status, body["code"]) == (403, 50001)
    admin = sandbox.create_guild("Admin", bot_permissions=ADMINISTRATOR)
    status, _, _ = await raw(
        sandbox, "POST", f"/guilds/{admin.id}/roles", {"name": "x", "permissions": str(MANAGE_ROLES)}
    )
    assert status == 200


async def test_content_over_2000_characters_is_invalid_form_body(harness: Harness) -> None:
    with pytest.raises(discord.HTTPException) as refused:
        await text_channel(harness).send("x" * 2001)
    assert refused.value.status == 400 and refused.value.code == 50035
    exchange = harness.sandbox.exchanges[-1]
    assert exchange.response_json == {
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {
            "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}
        },
    }


async def test_embed_and_component_limits(sandbox: Sandbox) -> None:
    guild = sandbox.create_guild("Limits")
    channel = guild.system_channel_id
    fields = [{"name": f"f{i}", "value": "v"} for i in range(26)]
    embeds = [{"title": "t" * 257, "fields": fields, "footer": {"text": "f" * 2049}}, {"description": "d" * 4097}]
    status, body, _ = await raw(sandbox, "POST", f"/channels/{channel}/messages", {"embeds": embeds})
    assert (status, body["code"]) == (400, 50035)
    errors = body["errors"]["embeds"]
    assert errors["0"]["title"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert errors["0"]["fields"]["_errors"][0]["message"] == "Must be 25 or fewer in length."
    assert "footer" in errors["0"] and "description" in errors["1"]
    assert errors["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"
    buttons = [{"type": 2, "style": 1, "label": str(i), "custom_id": f"b{i}"} for i in range(6)]
    rows = [{"type": 1, "components": buttons}] + [{"type": 1, "components": buttons[:1]}] * 5
    status, body, _ = await raw(sandbox, "POST", f"/channels/{channel}/messages", {"content": "x", "components": rows})
    assert body["errors"]["components"]["_errors"][0]["message"] == "Must be 5 or fewer in length."
    assert body["errors"]["components"]["0"]["components"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert body["errors"]["components"]["1"]["components"]["0"]["custom_id"]["_errors"][0]["code"] == (
        "COMPONENT_CUSTOM_ID_DUPLICATED"
    )
    status, body, _ = await raw(sandbox, "POST", f"/channels/{channel}/messages", {"content": "  "})
    assert (status, body["code"]) == (400, 50006)


async def test_injected_429_is_retried(harness: Harness) -> None:
    sb = harness.sandbox
    sb.inject("POST", r"^/channels/\d+/messages$", 429, retry_after=0.05)
    message = await text_channel(harness).send("after a rate limit")
    assert message.content == "after a rate limit"
    statuses = [e.status for e in sb.exchanges if e.route_template == "/channels/{channel_id}/messages"]
    assert statuses[-2:] == [429, 200]
    assert sb.exchanges[-2].response_json == {
        "message": "You are being rate limited.",
        "retry_after": 0.05,
        "global": False,
        "code": 0,
    }


async def test_injected_server_errors_and_delays(harness: Harness) -> None:
    sb = harness.sandbox
    sb.inject("*", r"^/channels/\d+/messages$", 503)
    with pytest.raises(discord.DiscordServerError):
        await text_channel(harness).send("lost")
    sb.inject("POST", r"^/channels/\d+/messages$", 500)
    retried = await text_channel(harness).send("after a server error")
    statuses = [e.status for e in sb.exchanges if e.route_template == "/channels/{channel_id}/messages"]
    assert statuses[-2:] == [500, 200] and retried.content == "after a server error"
    delayed = sb.inject("GET", r"^/guilds/\d+$", None, delay=0.01)
    guild = await harness.bot.fetch_guild(harness.guild.id)
    assert guild.id == harness.guild.id and delayed.remaining == 0
    assert (sb.exchanges[-1].route_template, sb.exchanges[-1].status, sb.exchanges[-1].injected) == (
        "/guilds/{guild_id}",
        200,
        False,
    )


async def test_json_content_type_auth_and_unknown_routes(sandbox: Sandbox) -> None:
    status, body, content_type = await raw(sandbox, "GET", "/users/@me")
    assert status == 200 and content_type == "application/json" and body["bot"] is True
    status, body, _ = await raw(sandbox, "GET", "/users/@me", token=None)
    assert (status, body) == (401, {"message": "401: Unauthorized", "code": 0})
    status, body, _ = await raw(sandbox, "GET", "/channels/1/messages")
    assert (status, body["code"]) == (404, 10003)
    assert sandbox.exchanges[-1].route_template == "/channels/{channel_id}/messages"
    status, body, _ = await raw(sandbox, "PUT", "/users/@me")
    assert (status, body) == (405, {"message": "405: Method Not Allowed", "code": 0})
    status, body, _ = await raw(sandbox, "GET", "/nothing/here")
    assert (status, body) == (404, {"message": "404: Not Found", "code": 0})


async def test_messages_edit_delete_crosspost_and_overwrites(harness: Harness) -> None:
    sb = harness.sandbox
    news = sb.create_channel(harness.guild.id, "Announcements", type=5)
    await sb.settle()
    channel = harness.bot.get_channel(news.id)
    assert isinstance(channel, discord.TextChannel) and channel.is_news() and channel.name == "announcements"
    message = await channel.send("Summit registrations are open")
    await message.publish()
    with pytest.raises(discord.HTTPException) as twice:
        await message.publish()
    assert twice.value.code == 40033
    edited = await message.edit(content="Summit registrations are open!")
    assert edited.edited_at is not None
    mine = sb.send_message(news.id, harness.alice.id, "great")
    foreign = await channel.fetch_message(mine.id)
    with pytest.raises(discord.Forbidden) as refused:
        await foreign.edit(content="hacked")
    assert refused.value.code == 50005
    await foreign.delete()
    assert mine.deleted
    history = [m.content async for m in channel.history(limit=10)]
    assert history == ["Summit registrations are open!"]
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    await channel.set_permissions(guild.default_role, send_messages=False)
    overwrite = sb.state.channels[news.id].overwrites[harness.guild.id]
    assert overwrite.deny == discord.Permissions(send_messages=True).value
    with pytest.raises(discord.Forbidden):
        await channel.set_permissions(guild.default_role, administrator=True)
    await channel.delete()
    await sb.settle()
    assert harness.bot.get_channel(news.id) is None


async def test_scheduled_events(harness: Harness) -> None:
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    event = await guild.create_scheduled_event(
        name="Code for All Summit",
        start_time=start,
        end_time=start + dt.timedelta(hours=2),
        entity_type=discord.EntityType.external,
        location="Taipei",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert event.location == "Taipei"
    await harness.sandbox.settle()
    assert guild.get_scheduled_event(event.id) is not None
    with pytest.raises(discord.HTTPException) as past:
        await guild.create_scheduled_event(
            name="Past",
            start_time=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            end_time=dt.datetime.now(dt.UTC),
            entity_type=discord.EntityType.external,
            location="x",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
    assert past.value.code == 50035
    started = await event.start()
    assert started.status is discord.EventStatus.active
    with pytest.raises(discord.HTTPException):
        await event.edit(status=discord.EventStatus.scheduled)
    await event.delete()
    assert "GUILD_SCHEDULED_EVENT_DELETE" in [name for name, _ in harness.sandbox.dispatches]


async def test_members_and_member_events(harness: Harness) -> None:
    sb = harness.sandbox
    bob = sb.create_user("bob", locale="es-ES")
    sb.add_member(harness.guild.id, bob.id)
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    member = await guild.fetch_member(bob.id)
    assert member.name == "bob"
    await member.edit(nick="Roberto")
    assert sb.state.guilds[harness.guild.id].members[bob.id].nick == "Roberto"
    assert bob.id in {m.id async for m in guild.fetch_members(limit=None)}
    await sb.settle()
    cached = guild.get_member(bob.id)
    assert cached is not None and cached.nick == "Roberto"
    owner = await guild.fetch_member(harness.guild.owner_id)
    with pytest.raises(discord.Forbidden):
        await owner.edit(nick="nope")


async def test_categories_channel_edits_and_role_moves(harness: Harness) -> None:
    sb = harness.sandbox
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    hidden = discord.PermissionOverwrite(view_channel=False)
    visible = discord.PermissionOverwrite(view_channel=True)
    category = await guild.create_category("Chapters", overwrites={guild.default_role: hidden, guild.me: visible})
    unsynced = await guild.create_text_channel("Code for Peru", category=category)
    assert unsynced.overwrites == {}
    channel = await guild.create_text_channel("Code for Kenya", category=category, overwrites=category.overwrites)
    await sb.settle()
    assert channel.category_id == category.id and channel.name == "code-for-kenya"
    assert channel.overwrites_for(guild.default_role).view_channel is False
    edited = await channel.edit(name="Kenya", topic="Nairobi civic tech", slowmode_delay=30)
    assert (edited.name, edited.topic, edited.slowmode_delay) == ("kenya", "Nairobi civic tech", 30)
    general = guild.get_channel(harness.channel_id)
    assert isinstance(general, discord.TextChannel)
    await general.edit(position=2)
    await sb.settle()
    assert (general.position, sb.state.channels[unsynced.id].position) == (1, 0)
    low = await guild.create_role(name="Low")
    high = await guild.create_role(name="High")
    await sb.settle()
    assert (sb.state.guilds[guild.id].roles[low.id].position, sb.state.guilds[guild.id].roles[high.id].position) == (
        2,
        1,
    )
    await guild.get_role(high.id).edit(position=2)  # type: ignore[union-attr]
    await sb.settle()
    assert guild.get_role(high.id).position == 2 and guild.get_role(low.id).position == 1  # type: ignore[union-attr]
    assert guild.me.top_role.position == 3
    await high.delete()
    await sb.settle()
    assert guild.get_role(high.id) is None
    status = [e.status for e in sb.exchanges if e.route_template == "/guilds/{guild_id}/roles/{role_id}"]
    assert status[-1] == 204
