"""Command checks enforced by the bot itself, not only by Discord's default permissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.errors import UserError
from bot.guilds.settings import is_organiser
from bot.i18n import N_
from bot.types import Interaction

T = TypeVar("T")


class NotOrganiser(app_commands.CheckFailure):
    """The member is neither an organiser nor holds Manage Server."""

    MESSAGE = N_("Only organisers can do this: you need Manage Server or this server's organiser role.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


async def member_is_organiser(interaction: Interaction) -> bool:
    """Whether the interaction's member is an organiser of its guild."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise app_commands.NoPrivateMessage()
    config = await interaction.client.guild_settings.get(interaction.guild.id)
    role_ids = [role.id for role in interaction.user.roles]
    return is_organiser(config, role_ids, manage_guild=interaction.permissions.manage_guild)


def organiser_only() -> Callable[[T], T]:
    """Restrict a command to organisers, checked on every call."""

    async def predicate(interaction: Interaction) -> bool:
        if not await member_is_organiser(interaction):
            raise NotOrganiser()
        return True

    return app_commands.check(predicate)


def check_can_post(channel: discord.TextChannel) -> None:
    """Refuse a channel the bot cannot post embeds in."""
    mine = channel.permissions_for(channel.guild.me)
    if not (mine.view_channel and mine.send_messages and mine.embed_links):
        raise UserError(
            N_("I cannot post in {channel}: I need View Channel, Send Messages and Embed Links there."),
            channel=channel.mention,
        )
