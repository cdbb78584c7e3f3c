"""Onboarding a partner through the sandbox: exactly the planned space, private, once; refused or rolled back
cleanly when Discord or the bot's rights say no."""

from __future__ import annotations

import asyncio

from bot.offline import SandboxSession
from bot.sandbox import InteractionResult
from bot.sandbox import permissions as perm
from bot.sandbox.permissions import channel_permissions

CHANNELS = ["tw-general", "tw-projects", "tw-announcements", "tw-voice"]
ROLE = "g0v (Code for Taiwan)"


async def _onboard(session: SandboxSession, user: int, **options: object) -> InteractionResult:
    options = {"chapter": "g0v", "short_name": "tw", **options}
    return await session.sandbox.slash(session.guild_id, session.channel_id, user, "onboard partner", options)


async def _press(session: SandboxSession, preview: InteractionResult, label: str, user: int) -> str:
    button = next(b for b in preview.message.buttons if b["label"] == label)
    edited = asyncio.ensure_future(session.sandbox.wait_for_edit(preview.message))
    clicked = await session.sandbox.click(preview.message, button["custom_id"], user)
    if not clicked.deferred:
        edited.cancel()
        return clicked.message.content
    return (await edited).content


def _names(session: SandboxSession) -> list[str]:
    return sorted(c.name for c in session.sandbox.state.guilds[session.guild_id].channels.values())


async def test_onboarding_creates_the_private_space_once(session: SandboxSession) -> None:
    sandbox = session.sandbox
    mei = sandbox.create_user("mei").id
    sandbox.add_member(session.guild_id, mei)
    await sandbox.settle()
    before = _names(session)

    preview = await _onboard(session, session.organiser_id, representative=str(mei))
    assert preview.message.ephemeral
    embed = preview.message.embeds[0]
    assert embed["title"] == f"Onboard {ROLE}"
    assert [f["name"] for f in embed["fields"]][2:6] == [
        "#tw-general (create)",
        "#tw-projects (create)",
        "#tw-announcements (create)",
        "🔊tw-voice (create)",
    ]
    assert _names(session) == before  # nothing until Confirm

    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith(f"Onboarded {ROLE}: created role, category, channel:general")
    await sandbox.settle()
    guild = sandbox.state.guilds[session.guild_id]
    role = sandbox.find_role(session.guild_id, ROLE)
    assert role.permissions == 0 and not role.mentionable
    category = next(c for c in guild.channels.values() if c.name == ROLE and c.type == 4)
    made = {c.name: c for c in guild.channels.values() if c.parent_id == category.id}
    assert sorted(made) == sorted(CHANNELS)
    for channel in made.values():
        assert not channel_permissions(guild, channel, session.member_id) & perm.VIEW_CHANNEL
        assert channel_permissions(guild, channel, mei) & perm.VIEW_CHANNEL
    assert not channel_permissions(guild, made["tw-announcements"], mei) & perm.SEND_MESSAGES
    assert channel_permissions(guild, made["tw-general"], mei) & perm.SEND_MESSAGES
    assert role.id in guild.members[mei].roles

    again = await _onboard(session, session.organiser_id)
    assert all(f["name"].endswith("(keep)") for f in again.message.embeds[0]["fields"][:6])
    outcome = await _press(session, again, "Confirm", session.organiser_id)
    assert outcome == f"{ROLE} was already onboarded: nothing new was created."
    assert len(_names(session)) == len(before) + 5
    history = await session.bot.directory.history("chapter", "g0v")
    assert history[0].action == "onboard" and history[0].actor_name == "you"


async def test_a_plain_member_cannot_onboard_nor_confirm(session: SandboxSession) -> None:
    refused = await _onboard(session, session.member_id)
    assert refused.message.ephemeral and refused.message.content.startswith("Only organisers can do this")
    preview = await _onboard(session, session.organiser_id)
    outcome = await _press(session, preview, "Confirm", session.member_id)
    assert outcome == "This was opened for someone else: run the command yourself."
    assert "tw-general" not in _names(session)


async def test_cancel_changes_nothing(session: SandboxSession) -> None:
    before = _names(session)
    preview = await _onboard(session, session.organiser_id)
    assert await _press(session, preview, "Cancel", session.organiser_id) == "Nothing was changed."
    assert _names(session) == before


async def test_a_403_on_the_third_channel_leaves_nothing_half_made(session: SandboxSession) -> None:
    before = _names(session)
    roles_before = len(session.sandbox.state.guilds[session.guild_id].roles)
    preview = await _onboard(session, session.organiser_id)
    # POST /guilds/{id}/channels makes the category, then the channels: the fourth call is the third channel.
    session.sandbox.inject("POST", r"^/guilds/\d+/channels$", 403, after=3)
    outcome = await _press(session, preview, "Confirm", session.organiser_id)
    assert outcome.startswith(f"Onboarding {ROLE} stopped: Discord refused a step")
    assert "I removed what this run had created (channel:projects, channel:general, category, role)" in outcome
    await session.sandbox.settle()
    assert _names(session) == before
    assert len(session.sandbox.state.guilds[session.guild_id].roles) == roles_before

    retry = await _onboard(session, session.organiser_id)
    assert (await _press(session, retry, "Confirm", session.organiser_id)).startswith(f"Onboarded {ROLE}")
    await session.sandbox.settle()
    assert len(_names(session)) == len(before) + 5


async def test_a_bot_without_manage_roles_is_refused_before_anything(session: SandboxSession) -> None:
    sandbox = session.sandbox
    bot_role = sandbox.bot_role(session.guild_id)
    guild = sandbox.state.guilds[session.guild_id]
    sandbox.world.update_role(guild, bot_role, {"permissions": str(bot_role.permissions & ~perm.MANAGE_ROLES)})
    await sandbox.settle()
    before = _names(session)
    refused = await _onboard(session, session.organiser_id)
    assert refused.message.content == "I need the Manage Roles permission to onboard a partner."
    assert _names(session) == before


async def test_a_partner_role_above_the_bots_is_refused(session: SandboxSession) -> None:
    sandbox = session.sandbox
    preview = await _onboard(session, session.organiser_id)
    await _press(session, preview, "Confirm", session.organiser_id)
    await sandbox.settle()
    guild = sandbox.state.guilds[session.guild_id]
    partner = sandbox.find_role(session.guild_id, ROLE)
    sandbox.world.move_roles(guild, {partner.id: sandbox.bot_role(session.guild_id).position + 1})
    await sandbox.settle()
    refused = await _onboard(session, session.organiser_id)
    assert refused.message.content == (
        "The partner's role is above my highest role: move my role above it, then try again."
    )
