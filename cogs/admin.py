"""Server settings: who the organisers are."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.guilds.settings import GuildConfig
from bot.i18n import LANGUAGES, N_, Localeish, t
from bot.types import Interaction

if TYPE_CHECKING:
    from bot.client import CodeForAllBot


def _describe(guild: discord.Guild, config: GuildConfig, locale: Localeish) -> str:
    role = guild.get_role(config.organiser_role_id) if config.organiser_role_id else None
    organisers = role.mention if role else t(locale, "members with Manage Server only")
    return t(
        locale,
        "Organisers: {organisers}\nLanguage for channel posts: {locale}",
        organisers=organisers,
        locale=LANGUAGES.get(
            config.locale or guild.preferred_locale.value, config.locale or guild.preferred_locale.value
        ),
    )


LANGUAGE_CHOICES = [app_commands.Choice(name=name, value=locale) for locale, name in LANGUAGES.items()]


class Admin(commands.Cog):
    """Per-server configuration, for people with Manage Server."""

    settings = app_commands.Group(
        name="settings",
        description="Configure the bot for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Enforce Manage Server here too: default permissions can be overridden by server admins."""
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @settings.command(name="show", description="Show this server's settings")
    async def show(self, interaction: Interaction) -> None:
        """Show the current settings."""
        assert interaction.guild is not None
        config = await self.bot.guild_settings.get(interaction.guild.id)
        await interaction.response.send_message(
            _describe(interaction.guild, config, interaction.locale), ephemeral=True
        )

    @settings.command(name="organiser-role", description="Choose the role whose members are organisers")
    @app_commands.describe(role="Organiser role; leave empty to rely on Manage Server only")
    async def organiser_role(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        """Set or clear the organiser role."""
        assert interaction.guild is not None
        if role is not None and role.is_default():
            raise UserError(N_("Choose a role other than @everyone: everyone would be an organiser."))
        config = await self.bot.guild_settings.update(interaction.guild.id, organiser_role_id=role.id if role else None)
        settings = _describe(interaction.guild, config, interaction.locale)
        await interaction.response.send_message(
            t(interaction.locale, "Saved.\n{settings}", settings=settings), ephemeral=True
        )

    @settings.command(name="language", description="Choose the language of the bot's posts in channels")
    @app_commands.describe(language="Language; leave empty to follow the server's own language")
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def language(self, interaction: Interaction, language: str | None = None) -> None:
        """Set or clear the language of channel posts."""
        assert interaction.guild is not None
        config = await self.bot.guild_settings.update(interaction.guild.id, locale=language)
        settings = _describe(interaction.guild, config, interaction.locale)
        await interaction.response.send_message(
            t(interaction.locale, "Saved.\n{settings}", settings=settings), ephemeral=True
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Admin(bot))
