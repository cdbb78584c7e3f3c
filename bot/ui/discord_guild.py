"""Onboarding's port to one Discord guild: creates roles, categories and channels with their overwrites, and
edits the guild's Discord Onboarding prompts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import discord

from bot.onboarding.plan import BOT, EVERYONE, ORGANISERS, PARTNER, ChannelPlan, GuildFacts, Overwrite

REASON = "Onboarding a partner of the Code for All network"
OFFBOARD_REASON = "Offboarding a partner of the Code for All network"


def guild_facts(guild: discord.Guild) -> GuildFacts:
    """What the bot holds in the guild right now."""
    me = guild.me
    permissions = me.guild_permissions
    return GuildFacts(
        bot_permissions=frozenset(
            name for name in discord.Permissions.VALID_FLAGS if getattr(permissions, name)
        ),  # aliases too
        bot_top_role_position=me.top_role.position,
        administrator=permissions.administrator,
        role_positions={role.id: role.position for role in guild.roles},
    )


class DiscordGuild:
    """A `GuildPort` over a discord.py guild; overwrite targets become the guild's roles and the bot."""

    def __init__(self, guild: discord.Guild, organiser_role_id: int | None, http: discord.http.HTTPClient) -> None:
        self.guild = guild
        self.organiser_role_id = organiser_role_id
        self._http = http
        self._created_roles: dict[int, discord.Role] = {}  # the gateway may not have cached them yet

    async def exists(self, kind: str, discord_id: int) -> bool:
        """Whether the object is still in the guild."""
        if kind == "role":
            return discord_id in self._created_roles or self.guild.get_role(discord_id) is not None
        return self.guild.get_channel(discord_id) is not None

    async def create_role(self, name: str, colour: int) -> int:
        """A role with no permissions, not mentionable, created at the bottom (below the bot's)."""
        role = await self.guild.create_role(
            name=name,
            colour=discord.Colour(colour),
            permissions=discord.Permissions.none(),
            mentionable=False,
            reason=REASON,
        )
        self._created_roles[role.id] = role
        return role.id

    async def create_category(self, name: str, overwrites: tuple[Overwrite, ...], role_id: int) -> int:
        """A category with its overwrites."""
        category = await self.guild.create_category(
            name, overwrites=self._overwrites(overwrites, role_id), reason=REASON
        )
        return category.id

    async def create_channel(self, channel: ChannelPlan, category_id: int, role_id: int) -> int:
        """A text or voice channel in the category."""
        category = self.guild.get_channel(category_id)
        parent = category if isinstance(category, discord.CategoryChannel) else None
        overwrites = self._overwrites(channel.overwrites, role_id)
        if channel.kind == "voice":
            voice = await self.guild.create_voice_channel(
                channel.name, category=parent, overwrites=overwrites, reason=REASON
            )
            return voice.id
        text = await self.guild.create_text_channel(channel.name, category=parent, overwrites=overwrites, reason=REASON)
        return text.id

    async def add_role(self, member_id: int, role_id: int) -> None:
        """Give a member the partner role."""
        member = self.guild.get_member(member_id) or await self.guild.fetch_member(member_id)
        await member.add_roles(discord.Object(role_id), reason=REASON)

    async def delete(self, kind: str, discord_id: int) -> None:
        """Remove an object created by a run that failed."""
        target = (
            self._created_roles.get(discord_id) or self.guild.get_role(discord_id)
            if kind == "role"
            else self.guild.get_channel(discord_id)
        )
        if target is not None:
            await target.delete(reason=REASON)

    async def archive_channel(
        self, channel_id: int, category_id: int, role_id: int | None, deny: frozenset[str]
    ) -> None:
        """Move a channel into the archive category in one edit: its overwrites kept (who saw it still does),
        `deny` added for @everyone and the partner's role."""
        channel = self.guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.VoiceChannel):
            raise LookupError(f"channel {channel_id} is not a text or voice channel of the guild")
        category = self.guild.get_channel(category_id)
        if not isinstance(category, discord.CategoryChannel):  # just made: the gateway may not have told us yet
            fetched = await self.guild.fetch_channel(category_id)
            if not isinstance(fetched, discord.CategoryChannel):
                raise LookupError(f"channel {category_id} is not a category")
            category = fetched
        overwrites = dict(channel.overwrites)
        role = (self._created_roles.get(role_id) or self.guild.get_role(role_id)) if role_id is not None else None
        for target in (self.guild.default_role, role):
            if target is not None:
                overwrite = overwrites.get(target) or discord.PermissionOverwrite()
                overwrite.update(**{name: False for name in deny})
                overwrites[target] = overwrite
        await channel.edit(category=category, overwrites=overwrites, sync_permissions=False, reason=OFFBOARD_REASON)

    async def read_onboarding(self) -> Mapping[str, Any]:
        """GET /guilds/{id}/onboarding, as Discord's JSON."""
        return cast(Mapping[str, Any], await self._http.get_guild_onboarding(self.guild.id))

    async def write_prompts(self, prompts: list[dict[str, Any]]) -> Mapping[str, Any]:
        """PUT /guilds/{id}/onboarding with every prompt and option id kept.

        Not `Guild.edit_onboarding`: discord.py 2.7 sends prompts numbered 0, 1, ... and options without ids,
        so Discord would take every prompt and option for a new one and forget members' answers.
        """
        answer = await self._http.edit_guild_onboarding(self.guild.id, prompts=cast(Any, prompts), reason=REASON)
        return cast(Mapping[str, Any], answer)

    def _overwrites(
        self, overwrites: tuple[Overwrite, ...], role_id: int
    ) -> dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]:
        targets: dict[str, discord.Role | discord.Member | None] = {
            EVERYONE: self.guild.default_role,
            PARTNER: self._created_roles.get(role_id) or self.guild.get_role(role_id),
            ORGANISERS: self.guild.get_role(self.organiser_role_id) if self.organiser_role_id else None,
            BOT: self.guild.me,
        }
        result: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {}
        for overwrite in overwrites:
            target = targets.get(overwrite.target)
            if target is not None:
                values = {name: True for name in overwrite.allow} | {name: False for name in overwrite.deny}
                result[target] = discord.PermissionOverwrite(**values)
        return result
