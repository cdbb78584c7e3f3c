"""Server settings through Discord."""

from __future__ import annotations

from bot.offline import SandboxSession


async def test_the_language_of_channel_posts_is_a_server_setting(session: SandboxSession) -> None:
    sandbox = session.sandbox
    saved = await sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "settings language", {"language": "ro"}
    )
    assert saved.message.ephemeral and "Română" in saved.message.content
    assert (await session.bot.guild_settings.get(session.guild_id)).locale == "ro"
    shown = await sandbox.slash(session.guild_id, session.channel_id, session.organiser_id, "settings language")
    assert shown.message.content.startswith("Nothing changed. Give a value to change it, or reset")
    assert "Language for channel posts: Română" in shown.message.content
    assert (await session.bot.guild_settings.get(session.guild_id)).locale == "ro"
    cleared = await sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "settings language", {"reset": True}
    )
    assert cleared.message.content.startswith("Saved.")
    assert "Română" not in cleared.message.content
    assert (await session.bot.guild_settings.get(session.guild_id)).locale is None
    both = await sandbox.slash(
        session.guild_id,
        session.channel_id,
        session.organiser_id,
        "settings language",
        {"language": "de", "reset": True},
    )
    assert both.message.content == "Give a value or reset, not both."
    assert (await session.bot.guild_settings.get(session.guild_id)).locale is None


async def test_the_organiser_role_with_no_value_is_shown_not_reset(session: SandboxSession) -> None:
    sandbox = session.sandbox
    role = sandbox.create_role(session.guild_id, "Organisers")
    await sandbox.settle()
    owner = session.organiser_id
    await sandbox.slash(session.guild_id, session.channel_id, owner, "settings organiser-role", {"role": role.id})
    shown = await sandbox.slash(session.guild_id, session.channel_id, owner, "settings organiser-role")
    assert shown.message.content.startswith("Nothing changed.")
    assert f"Organisers: <@&{role.id}>" in shown.message.content
    assert "Directory: this is the network's home server" in shown.message.content
    assert (await session.bot.guild_settings.get(session.guild_id)).organiser_role_id == role.id
    reset = await sandbox.slash(session.guild_id, session.channel_id, owner, "settings organiser-role", {"reset": True})
    assert reset.message.content.startswith("Saved.\nOrganisers: members with Manage Server only")
    assert (await session.bot.guild_settings.get(session.guild_id)).organiser_role_id is None
