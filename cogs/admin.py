"""Server settings: who the organisers are."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.announcements.times import zone
from bot.errors import UserError
from bot.guilds.settings import GuildConfig
from bot.i18n import LANGUAGES, N_, Localeish, t
from bot.types import Interaction
from bot.ui.announcements import zone_choices
from bot.ui.checks import check_can_post

if TYPE_CHECKING:
    from bot.client import CodeForAllBot


def _describe(guild: discord.Guild, config: GuildConfig, locale: Localeish) -> str:
    role = guild.get_role(config.organiser_role_id) if config.organiser_role_id else None
    organisers = role.mention if role else t(locale, "members with Manage Server only")
    text = t(
        locale,
        "Organisers: {organisers}\nLanguage for channel posts: {locale}",
        organisers=organisers,
        locale=LANGUAGES.get(
            config.locale or guild.preferred_locale.value, config.locale or guild.preferred_locale.value
        ),
    )
    channel = f"<#{config.organisers_channel_id}>" if config.organisers_channel_id else t(locale, "none")
    return "\n".join(
        [
            text,
            t(locale, "Organisers' channel: {channel}", channel=channel),
            t(locale, "Time zone: {zone}", zone=config.timezone or "UTC"),
        ]
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

    @settings.command(name="organisers-channel", description="Choose where I tell organisers about problems")
    @app_commands.describe(channel="A channel organisers read; leave empty to be told nowhere")
    async def organisers_channel(self, interaction: Interaction, channel: discord.TextChannel | None = None) -> None:
        """Set or clear the organisers' channel."""
        assert interaction.guild is not None
        if channel is not None:
            check_can_post(channel)
        config = await self.bot.guild_settings.update(
            interaction.guild.id, organisers_channel_id=channel.id if channel else None
        )
        await self._saved(interaction, config)

    @settings.command(name="timezone", description="Choose the time zone announcements are written in")
    @app_commands.describe(timezone="An IANA time zone, e.g. Europe/Bucharest; leave empty for UTC")
    @app_commands.autocomplete(timezone=zone_choices)
    async def timezone(self, interaction: Interaction, timezone: app_commands.Range[str, 1, 64] | None = None) -> None:
        """Set or clear the server's time zone."""
        assert interaction.guild is not None
        name = zone(timezone).key if timezone else None
        config = await self.bot.guild_settings.update(interaction.guild.id, timezone=name)
        await self._saved(interaction, config)

    async def _saved(self, interaction: Interaction, config: GuildConfig) -> None:
        assert interaction.guild is not None
        settings = _describe(interaction.guild, config, interaction.locale)
        await interaction.response.send_message(
            t(interaction.locale, "Saved.\n{settings}", settings=settings), ephemeral=True
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Admin(bot))
