"""Guild settings and the organiser model."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.guilds.settings import GuildConfig, GuildSettingsService, is_organiser


def test_organisers_hold_manage_server_or_the_organiser_role() -> None:
    config = GuildConfig(1, organiser_role_id=42)
    assert is_organiser(config, [7, 42], manage_guild=False)
    assert is_organiser(config, [], manage_guild=True)
    assert not is_organiser(config, [7], manage_guild=False)
    assert not is_organiser(GuildConfig(1), [42], manage_guild=False)


async def test_settings_persist_across_service_instances(sessions: async_sessionmaker[AsyncSession]) -> None:
    service = GuildSettingsService(sessions)
    assert (await service.get(10)).organiser_role_id is None
    await service.update(10, organiser_role_id=99, locale="ro")
    fresh = GuildSettingsService(sessions)
    assert await fresh.get(10) == GuildConfig(10, 99, "ro")
