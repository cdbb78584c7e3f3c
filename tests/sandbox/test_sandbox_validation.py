"""Discord's limits and permission maths (pure), and the interaction protocol over raw HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.sandbox import ApiError, InteractionTimeout, Sandbox
from bot.sandbox import permissions as perm
from bot.sandbox.state import Guild
from bot.sandbox.validation import validate_choices, validate_commands, validate_message, validate_modal


def errors_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ApiError) as raised:
        call(*args, **kwargs)
    assert raised.value.code == 50035
    assert raised.value.errors is not None
    return raised.value.errors


def test_message_limits() -> None:
    errors = errors_of(
        validate_message,
        {
            "content": "x" * 2001,
            "embeds": [{"author": {"name": "a" * 257}, "fields": [{"name": "", "value": "v" * 1025}]}],
        },
        creating=True,
    )
    assert errors["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    embed = errors["embeds"]["0"]
    assert embed["author"]["name"]["_errors"][0]["message"] == "Must be between 1 and 256 in length."
    assert set(embed["fields"]["0"]) == {"name", "value"}
    too_many = errors_of(validate_message, {"embeds": [{"title": "t"}] * 11}, creating=True)
    assert too_many["embeds"]["_errors"][0]["message"] == "Must be 10 or fewer in length."
    total = errors_of(
        validate_message, {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, creating=True
    )
    assert total == {
        "embeds": {
            "_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]
        }
    }
    select = {"type": 3, "custom_id": "s", "options": [{"label": str(i), "value": str(i)} for i in range(26)]}
    options = errors_of(validate_message, {"components": [{"type": 1, "components": [select]}]}, creating=True)
    assert options["components"]["0"]["components"]["0"]["options"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    long_id = {"type": 2, "style": 1, "label": "x", "custom_id": "c" * 101}
    custom = errors_of(validate_message, {"components": [{"type": 1, "components": [long_id]}]}, creating=True)
    assert "custom_id" in custom["components"]["0"]["components"]["0"]
    validate_message({"content": "x" * 2000, "embeds": [{"title": "t" * 256}]}, creating=True)


def test_interaction_payload_limits_nest_under_data() -> None:
    choices = errors_of(validate_choices, [{"name": str(i), "value": str(i)} for i in range(26)])
    assert choices["data"]["choices"]["_errors"][0]["message"] == "Must be 25 or fewer in length."
    modal = errors_of(validate_modal, {"title": "t" * 46, "custom_id": "m", "components": []})
    assert set(modal["data"]) == {"title", "components"}
    validate_modal(
        {
            "title": "Feedback",
            "custom_id": "m",
            "components": [{"type": 18, "label": "Topic", "component": {"type": 4, "custom_id": "t", "style": 1}}],
        }
    )


def test_command_registration_rules() -> None:
    commands = [
        {"name": "Chapter", "description": "x"},
        {
            "name": "ok",
            "description": "x",
            "options": [
                {"name": "a", "description": "a", "type": 3},
                {"name": "b", "description": "b", "type": 3, "required": True},
            ],
        },
        {"name": "ok", "description": "again"},
    ]
    errors = errors_of(validate_commands, commands)
    assert errors["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    assert (
        errors["1"]["options"]["1"]["required"]["_errors"][0]["code"] == "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
    )
    assert errors["2"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMANDS_DUPLICATE_NAME"


def test_permission_computation() -> None:
    sandbox = Sandbox()
    guild: Guild = sandbox.create_guild("Perms")
    user = sandbox.create_user("u")
    helper = sandbox.create_role(guild.id, "Helper", permissions=perm.MANAGE_MESSAGES)
    sandbox.add_member(guild.id, user.id, [helper.id])
    channel = sandbox.create_channel(guild.id, "ops")
    base = perm.base_permissions(guild, user.id)
    assert base & perm.MANAGE_MESSAGES and base & perm.SEND_MESSAGES
    sandbox.set_overwrite(channel.id, guild.id, deny=perm.SEND_MESSAGES | perm.VIEW_CHANNEL)
    assert perm.channel_permissions(guild, channel, user.id) == 0
    sandbox.set_overwrite(channel.id, helper.id, allow=perm.VIEW_CHANNEL | perm.SEND_MESSAGES)
    allowed = perm.channel_permissions(guild, channel, user.id)
    assert allowed & perm.SEND_MESSAGES and allowed & perm.EMBED_LINKS
    sandbox.set_overwrite(channel.id, user.id, deny=perm.SEND_MESSAGES)
    denied = perm.channel_permissions(guild, channel, user.id)
    assert denied & perm.VIEW_CHANNEL and not denied & (perm.SEND_MESSAGES | perm.EMBED_LINKS | perm.ATTACH_FILES)
    assert perm.channel_permissions(guild, channel, guild.owner_id) == perm.ALL
    admin = sandbox.create_role(guild.id, "Admin", permissions=perm.ADMINISTRATOR)
    guild.members[user.id].roles.append(admin.id)
    assert perm.channel_permissions(guild, channel, user.id) == perm.ALL
    bot_role = sandbox.bot_role(guild.id)
    assert perm.top_role(guild, sandbox.state.bot_id) == bot_role
    assert perm.can_manage_role(guild, sandbox.state.bot_id, admin)
    assert not perm.can_manage_role(guild, sandbox.state.bot_id, bot_role)


async def _call(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": "Bot raw"}
    async with session.request(method, url, json=body, headers=headers) as response:
        return response.status, (await response.json() if response.status != 204 else None)


@pytest.mark.asyncio
async def test_raw_interaction_protocol(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    created = asyncio.Event()
    dispatch = sandbox.gateway.dispatch

    def dispatch_and_note(event: str, data: Any, *, guild_id: int | None = None) -> None:
        dispatch(event, data, guild_id=guild_id)
        if event == "INTERACTION_CREATE":
            created.set()

    monkeypatch.setattr(sandbox.gateway, "dispatch", dispatch_and_note)
    guild = sandbox.create_guild("Raw")
    user = sandbox.create_user("u")
    sandbox.add_member(guild.id, user.id)
    general = sandbox.find_channel(guild.id, "general").id
    app = sandbox.state.application_id
    commands_url = f"{sandbox.api_base}/applications/{app}/guilds/{guild.id}/commands"
    command = {"name": "ping", "description": "Ping", "options": []}
    async with aiohttp.ClientSession() as session:
        status, first = await _call(session, "PUT", commands_url, [command])
        assert status == 200 and first[0]["application_id"] == str(app) and first[0]["guild_id"] == str(guild.id)
        status, again = await _call(session, "PUT", commands_url, [command])
        assert again[0]["id"] == first[0]["id"] and again[0]["version"] == first[0]["version"]
        status, renamed = await _call(session, "PUT", commands_url, [{**command, "description": "Pong"}])
        assert renamed[0]["id"] == first[0]["id"] and renamed[0]["version"] != first[0]["version"]

        waiting = asyncio.create_task(sandbox.slash(guild.id, general, user.id, "ping", timeout=5))
        await asyncio.wait_for(created.wait(), 5)
        record = next(iter(sandbox.state.interactions.values()))
        callback = f"{sandbox.api_base}/interactions/{record.id}/{record.token}/callback?with_response=true"
        status, body = await _call(session, "POST", callback, {"type": 8, "data": {"choices": []}})
        assert (status, body["code"]) == (400, 50035) and "type" in body["errors"]
        status, body = await _call(session, "POST", callback, {"type": 9, "data": {"title": "", "custom_id": "m"}})
        assert set(body["errors"]["data"]) == {"title", "components"}
        webhook = f"{sandbox.api_base}/webhooks/{app}/{record.token}"
        status, body = await _call(session, "POST", webhook + "?wait=true", {"content": "early"})
        assert (status, body["code"]) == (404, 10015)
        status, body = await _call(session, "POST", callback, {"type": 5, "data": {"flags": 64}})
        assert status == 200 and body["interaction"]["response_message_loading"] is True
        assert body["interaction"]["response_message_ephemeral"] is True and "resource" not in body
        assert not waiting.done()
        status, edited = await _call(session, "PATCH", webhook + "/messages/@original", {"content": "pong"})
        assert status == 200 and edited["flags"] == 64
        result = await waiting
        assert result.message.content == "pong" and result.message.ephemeral
        status, fetched = await _call(session, "GET", webhook + "/messages/@original")
        assert fetched["id"] == edited["id"]
        sandbox.config.token_lifetime = 0
        status, body = await _call(session, "POST", webhook + "?wait=true", {"content": "late"})
        assert (status, body["code"]) == (401, 50027)

        with pytest.raises(InteractionTimeout) as unanswered:
            await sandbox.slash(guild.id, general, user.id, "ping", timeout=0.1)
        assert unanswered.value.result.response_type is None
