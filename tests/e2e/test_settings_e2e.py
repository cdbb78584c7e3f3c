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
    cleared = await sandbox.slash(session.guild_id, session.channel_id, session.organiser_id, "settings language")
    assert "Română" not in cleared.message.content
    assert (await session.bot.guild_settings.get(session.guild_id)).locale is None
