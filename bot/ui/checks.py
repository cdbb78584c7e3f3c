"""Checks enforced by the bot itself, not only by Discord's default permissions, on every use."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.directory.authority import Right, directory_right
from bot.guilds.settings import is_organiser
from bot.i18n import N_
from bot.types import Interaction

T = TypeVar("T")


class Refused(app_commands.CheckFailure):
    """A check refused the member; `message` is the sentence (a msgid) they are told."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotOrganiser(Refused):
    """The member is neither an organiser nor holds Manage Server."""

    MESSAGE = N_("Only organisers can do this: you need Manage Server or this server's organiser role.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


READ_ONLY = N_(
    "The directory is read-only: the bot's operator has not named the network's home server (HOME_GUILD_ID)."
)
HOME_ONLY = N_(
    "Only organisers of the network's home server change the directory. From this server, propose a change "
    "with /directory add-chapter, edit-chapter, add-project or edit-project."
)


async def member_is_organiser(interaction: Interaction) -> bool:
    """Whether the interaction's member is an organiser of its guild (read from this interaction, not a cache)."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        raise app_commands.NoPrivateMessage()
    config = await interaction.client.guild_settings.get(interaction.guild.id)
    role_ids = [role.id for role in interaction.user.roles]
    return is_organiser(config, role_ids, manage_guild=interaction.permissions.manage_guild)


async def require_organiser(interaction: Interaction) -> None:
    """Raise NotOrganiser unless the member organises this server."""
    if not await member_is_organiser(interaction):
        raise NotOrganiser()


async def require_directory_right(interaction: Interaction) -> Right:
    """The organiser's right over the directory here; raises when not an organiser or the directory is read-only."""
    await require_organiser(interaction)
    assert interaction.guild is not None
    right = directory_right(interaction.client.settings.home_guild_id, interaction.guild.id)
    if right is None:
        raise Refused(READ_ONLY)
    return right


async def require_home_organiser(interaction: Interaction) -> None:
    """Raise unless the member organises the network's home server."""
    if await require_directory_right(interaction) is not Right.EDIT:
        raise Refused(HOME_ONLY)


def organiser_only() -> Callable[[T], T]:
    """Restrict a command to this server's organisers, checked on every call."""

    async def predicate(interaction: Interaction) -> bool:
        await require_organiser(interaction)
        return True

    return app_commands.check(predicate)


def home_organiser_only() -> Callable[[T], T]:
    """Restrict a command to the home server's organisers, checked on every call."""

    async def predicate(interaction: Interaction) -> bool:
        await require_home_organiser(interaction)
        return True

    return app_commands.check(predicate)
