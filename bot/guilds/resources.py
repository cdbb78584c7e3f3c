"""The Discord objects the bot created in each guild, stored the moment they exist so no run duplicates them."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import GuildResource


class GuildResources:
    """Remembers and forgets created objects by (guild, owner, name)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def of(self, guild_id: int, owner: str) -> dict[str, tuple[str, int]]:
        """name -> (kind, discord id) of everything stored for `owner` in the guild."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(GuildResource).where(GuildResource.guild_id == guild_id, GuildResource.owner == owner)
            )
            return {row.name: (row.kind, row.discord_id) for row in rows}

    async def of_kind(self, guild_id: int, kind: str) -> dict[str, int]:
        """owner -> discord id of every stored object of this kind in the guild."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(GuildResource).where(GuildResource.guild_id == guild_id, GuildResource.kind == kind)
            )
            return {row.owner: row.discord_id for row in rows}

    async def owners(self, guild_id: int, prefix: str) -> set[str]:
        """Every owner in the guild whose name starts with `prefix`, with at least one stored object."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(GuildResource.owner)
                .where(GuildResource.guild_id == guild_id, GuildResource.owner.startswith(prefix, autoescape=True))
                .distinct()
            )
            return set(rows)

    async def remember(self, guild_id: int, owner: str, name: str, kind: str, discord_id: int) -> None:
        """Store (or replace) one created object."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(GuildResource).where(
                    GuildResource.guild_id == guild_id, GuildResource.owner == owner, GuildResource.name == name
                )
            )
            session.add(GuildResource(guild_id=guild_id, owner=owner, name=name, kind=kind, discord_id=discord_id))

    async def forget(self, guild_id: int, owner: str, name: str | None = None) -> None:
        """Drop one stored object, or all of `owner`'s."""
        condition = [GuildResource.guild_id == guild_id, GuildResource.owner == owner]
        if name is not None:
            condition.append(GuildResource.name == name)
        async with self._sessions.begin() as session:
            await session.execute(delete(GuildResource).where(*condition))
