"""Discord's guild Onboarding in the sandbox: GET and PUT /guilds/{id}/onboarding as discord.py and raw HTTP use
them; off with no prompts by default, ids assigned to new prompts and options and kept for known ones, the body
checked, Manage Server and Manage Roles required."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.sandbox import permissions as perm
from tests.sandbox.support import Harness
from tests.sandbox.test_sandbox_rest import raw

pytestmark = pytest.mark.asyncio


def _prompt(title: str, role_id: int, *, prompt_id: object = 0, option_id: object = None) -> dict[str, Any]:
    return {
        "id": prompt_id,
        "title": title,
        "options": [{"id": option_id, "title": "Taiwan", "role_ids": [str(role_id)], "channel_ids": []}],
        "single_select": True,
        "required": False,
        "in_onboarding": True,
        "type": 0,
    }


def _may_manage_server(harness: Harness) -> None:
    sb = harness.sandbox
    role = sb.bot_role(harness.guild.id)
    sb.world.update_role(
        sb.state.guilds[harness.guild.id], role, {"permissions": str(role.permissions | perm.MANAGE_GUILD)}
    )


def _guild(harness: Harness) -> discord.Guild:
    guild = harness.bot.get_guild(harness.guild.id)
    assert guild is not None
    return guild


async def test_onboarding_is_off_with_no_prompts_until_enabled(harness: Harness) -> None:
    board = await _guild(harness).onboarding()
    assert not board.enabled and board.prompts == [] and board.mode is discord.OnboardingMode.default
    role = harness.sandbox.create_role(harness.guild.id, "Taiwan")
    harness.sandbox.enable_onboarding(harness.guild.id, [_prompt("Which chapter?", role.id)])
    board = await _guild(harness).onboarding()
    assert board.enabled
    [prompt] = board.prompts
    assert prompt.title == "Which chapter?" and prompt.id > 0
    assert [option.role_ids for option in prompt.options] == [{role.id}] and prompt.options[0].id > 0


async def test_a_put_keeps_known_ids_and_assigns_new_ones(harness: Harness) -> None:
    sb = harness.sandbox
    _may_manage_server(harness)
    taiwan, romania = sb.create_role(harness.guild.id, "Taiwan"), sb.create_role(harness.guild.id, "Romania")
    [known] = sb.enable_onboarding(harness.guild.id, [_prompt("Which chapter?", taiwan.id)])["prompts"]
    kept = {**_prompt("Which chapter?", taiwan.id, prompt_id=known["id"], option_id=known["options"][0]["id"])}
    kept["options"].append({"title": "Romania", "role_ids": [str(romania.id)]})
    status, body, _ = await raw(
        sb, "PUT", f"/guilds/{harness.guild.id}/onboarding", {"prompts": [kept, _prompt("Language?", romania.id)]}
    )
    assert status == 200, body
    first, second = body["prompts"]
    assert first["id"] == known["id"] and first["options"][0]["id"] == known["options"][0]["id"]
    assert first["options"][1]["id"] not in {known["options"][0]["id"], "0"}
    assert second["id"] not in {known["id"], "0"} and body["enabled"] is True  # enabled is left as it was
    assert sb.onboarding(harness.guild.id) == body


async def test_discord_py_edits_the_prompts(harness: Harness) -> None:
    _may_manage_server(harness)
    role = harness.sandbox.create_role(harness.guild.id, "Taiwan")
    option = discord.OnboardingPromptOption(title="Taiwan", roles=[role.id], description="g0v")
    prompt = discord.OnboardingPrompt(
        type=discord.OnboardingPromptType.multiple_choice, title="Which chapter?", options=[option]
    )
    edited = await _guild(harness).edit_onboarding(prompts=[prompt], enabled=True)
    assert edited.enabled and edited.prompts[0].options[0].description == "g0v"
    assert harness.sandbox.state.guilds[harness.guild.id].onboarding["prompts"][0]["options"][0]["role_ids"] == [
        role.id
    ]


async def test_a_bad_body_is_refused_with_the_fields_named(harness: Harness) -> None:
    sb = harness.sandbox
    _may_manage_server(harness)
    good = _prompt("Which chapter?", sb.create_role(harness.guild.id, "Taiwan").id)
    bad: list[dict[str, Any]] = [
        {**good, "title": ""},
        {**good, "id": 1, "options": []},
        {**good, "id": 2, "options": [{"title": "x" * 51, "role_ids": ["123"]}]},
    ]
    status, body, _ = await raw(sb, "PUT", f"/guilds/{harness.guild.id}/onboarding", {"prompts": bad, "mode": 3})
    assert status == 400 and body["code"] == 50035
    errors = body["errors"]
    assert errors["prompts"]["0"]["title"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    assert errors["prompts"]["1"]["options"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    option = errors["prompts"]["2"]["options"]["0"]
    assert set(option) == {"title", "role_ids"} and "mode" in errors
    too_many = [{**good, "id": n} for n in range(1, 17)]
    status, body, _ = await raw(sb, "PUT", f"/guilds/{harness.guild.id}/onboarding", {"prompts": too_many})
    assert status == 400 and body["errors"]["prompts"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert sb.onboarding(harness.guild.id)["prompts"] == []


@pytest.mark.parametrize("missing", [perm.MANAGE_GUILD, perm.MANAGE_ROLES])
async def test_editing_needs_manage_server_and_manage_roles(harness: Harness, missing: int) -> None:
    sb = harness.sandbox
    role = sb.bot_role(harness.guild.id)
    guild = sb.state.guilds[harness.guild.id]
    sb.world.update_role(guild, role, {"permissions": str((role.permissions | perm.MANAGE_GUILD) & ~missing)})
    taiwan = sb.create_role(harness.guild.id, "Taiwan")
    status, body, _ = await raw(
        sb, "PUT", f"/guilds/{harness.guild.id}/onboarding", {"prompts": [_prompt("Which chapter?", taiwan.id)]}
    )
    assert (status, body["code"]) == (403, 50013)
    assert (await raw(sb, "GET", f"/guilds/{harness.guild.id}/onboarding"))[0] == 200


async def test_a_deleted_role_leaves_its_options(harness: Harness) -> None:
    sb = harness.sandbox
    role = sb.create_role(harness.guild.id, "Taiwan")
    sb.enable_onboarding(harness.guild.id, [_prompt("Which chapter?", role.id)])
    sb.world.delete_role(sb.state.guilds[harness.guild.id], role)
    assert sb.onboarding(harness.guild.id)["prompts"][0]["options"][0]["role_ids"] == []
