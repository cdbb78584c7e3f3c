"""Connection life: the bot resumes after a dropped gateway, and a restart does not sync unchanged commands."""

from __future__ import annotations

from pathlib import Path

from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from bot.sandbox import Sandbox
from tests.openapi_validator import exchange_violations, format_report


async def test_bot_resumes_after_the_gateway_drops(session: SandboxSession) -> None:
    await session.sandbox.drop_gateway(resume=True)
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "g0v"}
    )
    assert "g0v" in result.message.embeds[0]["title"]
    assert any(event == "RESUMED" for event, _ in session.sandbox.dispatches)


async def test_a_rate_limited_call_is_retried(session: SandboxSession) -> None:
    session.sandbox.inject("POST", r"/interactions/.*/callback", status=429, times=1)
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "g0v"}
    )
    assert "g0v" in result.message.embeds[0]["title"]


async def test_restart_does_not_sync_unchanged_commands(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    first = await start_session(settings)
    state = first.sandbox.state
    await first.stop()
    assert any(e.method == "PUT" and e.path.endswith("/commands") for e in first.sandbox.exchanges)

    second = await start_session(settings, sandbox=Sandbox(state))
    try:
        assert not any(e.method == "PUT" for e in second.sandbox.exchanges)
        result = await second.sandbox.slash(
            second.guild_id, second.channel_id, second.member_id, "chapter", {"name": "Taiwan"}
        )
        assert "g0v" in result.message.embeds[0]["title"]
    finally:
        await second.stop()


async def test_page_buttons_keep_working_after_a_restart(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    first = await start_session(settings)
    listing = await first.sandbox.slash(first.guild_id, first.channel_id, first.member_id, "chapters")
    next_button = listing.message.buttons[1]["custom_id"]
    await first.stop()

    second = await start_session(settings, sandbox=Sandbox(first.sandbox.state))
    try:
        clicked = await second.sandbox.click(listing.message.id, next_button, first.member_id)
        assert clicked.message.embeds[0]["footer"]["text"].startswith("Page 2/")
    finally:
        await second.stop()


async def test_commands_go_to_the_development_guild_when_set(database_url: str, tmp_path: Path) -> None:
    sandbox = Sandbox()
    owner = sandbox.create_user("dev")
    dev_guild = sandbox.create_guild("Development", owner_id=owner.id)
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path, dev_guild_id=dev_guild.id)
    session = await start_session(settings, sandbox=sandbox)
    try:
        puts = [e.path for e in sandbox.exchanges if e.method == "PUT" and e.path.endswith("/commands")]
        assert puts and all(f"/guilds/{dev_guild.id}/commands" in path for path in puts)
        channel = sandbox.find_channel(dev_guild.id, "general")
        result = await sandbox.slash(dev_guild.id, channel.id, owner.id, "chapter", {"name": "g0v"})
        assert "g0v" in result.message.embeds[0]["title"]
    finally:
        await session.stop()


async def test_the_bot_starts_and_answers_with_discord_rate_limits_on(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    session = await start_session(settings, sandbox=Sandbox(rate_limits=True))
    try:
        session.sandbox.rate_limits.global_limit = 3
        for name in ("g0v", "Taiwan", "Romania", "g0v"):
            result = await session.sandbox.slash(
                session.guild_id, session.channel_id, session.member_id, "chapter", {"name": name}
            )
            assert result.message.embeds
    finally:
        await session.stop()
    callbacks = [e for e in session.sandbox.exchanges if e.path.endswith("/callback")]
    assert len(callbacks) >= 4 and all(e.status < 300 for e in callbacks)
    violations = exchange_violations(session.sandbox.exchanges)
    assert not violations, format_report(violations)
