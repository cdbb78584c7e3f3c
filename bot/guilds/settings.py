"""Per-guild settings and the organiser permission model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import GuildSettings
from db.repositories import bump_revision


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """What the bot knows about one guild's configuration."""

    guild_id: int
    organiser_role_id: int | None = None
    locale: str | None = None
    organisers_channel_id: int | None = None
    timezone: str | None = None
    events_channel_id: int | None = None
    reminder_offsets: str | None = None
    welcome_mode: str | None = None
    welcome_channel_id: int | None = None
    welcome_tips: bool | None = None
    rules_text: str | None = None
    announcements_channel_id: int | None = None


SETTINGS = (
    "organiser_role_id",
    "locale",
    "organisers_channel_id",
    "timezone",
    "events_channel_id",
    "reminder_offsets",
    "welcome_mode",
    "welcome_channel_id",
    "welcome_tips",
    "rules_text",
    "announcements_channel_id",
)


def is_organiser(config: GuildConfig, role_ids: Iterable[int], *, manage_guild: bool) -> bool:
    """Organisers hold Manage Server or the guild's organiser role."""
    return manage_guild or (config.organiser_role_id is not None and config.organiser_role_id in set(role_ids))


class GuildSettingsService:
    """Reads and writes guild settings, cached in memory (the database stays the source of truth)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._cache: dict[int, GuildConfig] = {}
        self.revision = -1  # the guild-settings revision the cache reflects

    def refresh(self, revision: int) -> None:
        """Forget the cache when another process (or this one) wrote settings since it was filled."""
        if revision != self.revision:
            self._cache.clear()
            self.revision = revision

    async def get(self, guild_id: int) -> GuildConfig:
        """The guild's configuration (defaults when never set)."""
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        async with self._sessions() as session:
            row = await session.get(GuildSettings, guild_id)
        config = _to_config(row) if row else GuildConfig(guild_id)
        self._cache[guild_id] = config
        return config

    async def update(self, guild_id: int, **values: int | str | None) -> GuildConfig:
        """Change some settings of a guild and return the new configuration."""
        async with self._sessions.begin() as session:
            await bump_revision(session, "guild_settings")
            row = await session.get(GuildSettings, guild_id)
            if row is None:
                row = GuildSettings(guild_id=guild_id)
                session.add(row)
            for name, value in values.items():
                if name not in SETTINGS:
                    raise ValueError(f"unknown guild setting {name!r}")
                setattr(row, name, value)
        config = _to_config(row)
        self._cache[guild_id] = config
        return config


def _to_config(row: GuildSettings) -> GuildConfig:
    return GuildConfig(row.guild_id, *(getattr(row, name) for name in SETTINGS))
