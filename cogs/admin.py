"""Server settings: who the organisers are, where the bot posts, how it welcomes newcomers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.directory.authority import Right, directory_right
from bot.errors import UserError
from bot.guilds.settings import GuildConfig
from bot.i18n import LANGUAGES, N_, Localeish, t
from bot.summits.reminders import DEFAULT_OFFSETS, format_offsets, parse_offsets
from bot.text import storable, truncate
from bot.times import zone
from bot.types import Interaction
from bot.ui.announcements import zone_choices
from bot.ui.checks import check_can_post
from bot.welcome.service import CHANNEL, DM, OFF, SYSTEM
from bot.welcome.tips import TIPS

if TYPE_CHECKING:
    from bot.client import CodeForAllBot


DIRECTORY_RIGHTS = {
    Right.EDIT: N_("Directory: this is the network's home server, so its organisers change the directory."),
    Right.PROPOSE: N_("Directory: organisers here propose changes; the network's home server decides."),
    None: N_("Directory: read-only everywhere, because no home server is set."),
}


def _describe(guild: discord.Guild, config: GuildConfig, home_guild_id: int | None, locale: Localeish) -> str:
    role = guild.get_role(config.organiser_role_id) if config.organiser_role_id else None
    organisers = role.mention if role else t(locale, "members with Manage Server only")
    directory = t(locale, DIRECTORY_RIGHTS[directory_right(home_guild_id, guild.id)])
    language = config.locale or guild.preferred_locale.value
    described = t(
        locale,
        "Organisers: {organisers}\nLanguage for channel posts: {locale}",
        organisers=organisers,
        locale=LANGUAGES.get(language, language),
    )
    channel = f"<#{config.organisers_channel_id}>" if config.organisers_channel_id else t(locale, "none")
    events = f"<#{config.events_channel_id}>" if config.events_channel_id else t(locale, "none")
    partners = f"<#{config.announcements_channel_id}>" if config.announcements_channel_id else t(locale, "none")
    return "\n".join(
        [
            described,
            t(locale, "Organisers' channel: {channel}", channel=channel),
            t(locale, "Time zone: {zone}", zone=config.timezone or "UTC"),
            t(locale, "Events channel: {channel}", channel=events),
            t(locale, "Announcements channel (new partners are introduced there): {channel}", channel=partners),
            t(locale, "Event reminders: {offsets}", offsets=config.reminder_offsets or DEFAULT_OFFSETS),
            *_welcome(guild, config, locale),
            directory,
        ]
    )


def _welcome(guild: discord.Guild, config: GuildConfig, locale: Localeish) -> list[str]:
    mode = config.welcome_mode or SYSTEM
    if mode == SYSTEM:
        system = guild.system_channel.mention if guild.system_channel else t(locale, "none")
        where = t(locale, "in the system channel ({channel})", channel=system)
    elif mode == CHANNEL:
        where = f"<#{config.welcome_channel_id}>"
    else:
        where = t(locale, "by direct message") if mode == DM else t(locale, "off")
    days = ", ".join(str(tip.day) for tip in TIPS)
    tips = t(locale, "off") if config.welcome_tips is False else t(locale, "on, days {days}", days=days)
    if config.rules_text:
        rules = f"“{truncate(config.rules_text, 80)}”"
    elif guild.rules_channel is not None:
        rules = t(locale, "the rules channel, {channel}", channel=guild.rules_channel.mention)
    else:
        rules = t(locale, "none")
    return [
        t(locale, "Welcome: {where}", where=where),
        t(locale, "Welcome tips by direct message: {tips}", tips=tips),
        t(locale, "Rules button: {rules}", rules=rules),
    ]


SAVED = N_("Saved.\n{settings}")
CURRENT = N_("Nothing changed. Give a value to change it, or reset to go back to the default.\n{settings}")

LANGUAGE_CHOICES = [app_commands.Choice(name=name, value=locale) for locale, name in LANGUAGES.items()]
WELCOME_CHOICES = [
    app_commands.Choice(name="In the server's system channel", value=SYSTEM),
    app_commands.Choice(name="In a channel I choose", value=CHANNEL),
    app_commands.Choice(name="By direct message", value=DM),
    app_commands.Choice(name="Nowhere", value=OFF),
]


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
            _describe(interaction.guild, config, self.bot.settings.home_guild_id, interaction.locale), ephemeral=True
        )

    async def _answer(self, interaction: Interaction, config: GuildConfig, message: str) -> None:
        assert interaction.guild is not None
        settings = _describe(interaction.guild, config, self.bot.settings.home_guild_id, interaction.locale)
        await interaction.response.send_message(t(interaction.locale, message, settings=settings), ephemeral=True)

    @settings.command(name="organiser-role", description="Choose the role whose members are organisers")
    @app_commands.describe(
        role="Organiser role; leave empty to see the current one",
        reset="Go back to Manage Server only",
    )
    async def organiser_role(
        self, interaction: Interaction, role: discord.Role | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the organiser role."""
        assert interaction.guild is not None
        guild_settings = self.bot.guild_settings
        if role is not None and reset:
            raise UserError(N_("Give a value or reset, not both."))
        if role is not None and role.is_default():
            raise UserError(N_("Choose a role other than @everyone: everyone would be an organiser."))
        if role is None and not reset:
            await self._answer(interaction, await guild_settings.get(interaction.guild.id), CURRENT)
            return
        config = await guild_settings.update(interaction.guild.id, organiser_role_id=role.id if role else None)
        await self._answer(interaction, config, SAVED)

    @settings.command(name="language", description="Choose the language of the bot's posts in channels")
    @app_commands.describe(
        language="Language; leave empty to see the current one",
        reset="Go back to the server's own language",
    )
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def language(self, interaction: Interaction, language: str | None = None, reset: bool = False) -> None:
        """Show, set or reset the language of channel posts."""
        assert interaction.guild is not None
        guild_settings = self.bot.guild_settings
        if language is not None and reset:
            raise UserError(N_("Give a value or reset, not both."))
        if language is None and not reset:
            await self._answer(interaction, await guild_settings.get(interaction.guild.id), CURRENT)
            return
        config = await guild_settings.update(interaction.guild.id, locale=language)
        await self._answer(interaction, config, SAVED)

    @settings.command(name="organisers-channel", description="Choose where I tell organisers about problems")
    @app_commands.describe(
        channel="A channel organisers read; leave empty to see the current one", reset="Be told nowhere"
    )
    async def organisers_channel(
        self, interaction: Interaction, channel: discord.TextChannel | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the organisers' channel."""
        config = await self._set_channel(interaction, channel, reset, "organisers_channel_id")
        if config is not None:
            await self._saved(interaction, config)

    @settings.command(name="timezone", description="Choose the time zone announcements are written in")
    @app_commands.describe(
        timezone="An IANA time zone, e.g. Europe/Bucharest; leave empty to see the current one", reset="Back to UTC"
    )
    @app_commands.autocomplete(timezone=zone_choices)
    async def timezone(
        self, interaction: Interaction, timezone: app_commands.Range[str, 1, 64] | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the server's time zone."""
        assert interaction.guild is not None
        if await self._shown_instead(interaction, timezone is not None, reset):
            return
        name = zone(timezone).key if timezone else None
        config = await self.bot.guild_settings.update(interaction.guild.id, timezone=name)
        await self._saved(interaction, config)

    @settings.command(name="events-channel", description="Choose where I post new events and their reminders")
    @app_commands.describe(channel="A channel members read; leave empty to see the current one", reset="Post nowhere")
    async def events_channel(
        self, interaction: Interaction, channel: discord.TextChannel | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the events channel; the reminders planned follow it."""
        config = await self._set_channel(interaction, channel, reset, "events_channel_id")
        if config is not None:
            await self.bot.app.events.plan()
            await self._saved(interaction, config)

    @settings.command(name="announcements-channel", description="Choose where I introduce the network's new partners")
    @app_commands.describe(
        channel="A channel members read; leave empty to see the current one", reset="Introduce partners nowhere"
    )
    async def announcements_channel(
        self, interaction: Interaction, channel: discord.TextChannel | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the channel where onboarding a partner posts its welcome."""
        config = await self._set_channel(interaction, channel, reset, "announcements_channel_id")
        if config is not None:
            await self._saved(interaction, config)

    @settings.command(name="reminders", description="Choose how long before an event its reminders go out")
    @app_commands.describe(
        offsets="e.g. 30d, 7d, 1d, 1h, 0 (0: at the start); leave empty to see the current ones",
        reset="Back to 30d, 7d, 1d, 1h, 0",
    )
    async def reminders(
        self, interaction: Interaction, offsets: app_commands.Range[str, 1, 100] | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the reminder offsets; reminders already planned move with them."""
        assert interaction.guild is not None
        if await self._shown_instead(interaction, offsets is not None, reset):
            return
        text = format_offsets(parse_offsets(offsets)) if offsets else None
        config = await self.bot.guild_settings.update(interaction.guild.id, reminder_offsets=text)
        await self.bot.app.events.plan()
        await self._saved(interaction, config)

    @settings.command(name="welcome", description="Choose how I welcome newcomers: where, their tips, the rules")
    @app_commands.describe(
        where="Where the welcome goes; leave every option empty to see the current settings",
        channel="The channel, when the welcome goes to a channel",
        tips="A few tips by direct message in their first week",
        rules="What the Rules button shows (else the server's rules channel)",
        reset="Back to the system channel, tips on, the rules channel",
    )
    @app_commands.choices(where=WELCOME_CHOICES)
    async def welcome(
        self,
        interaction: Interaction,
        where: str | None = None,
        channel: discord.TextChannel | None = None,
        tips: bool | None = None,
        rules: app_commands.Range[str, 1, 1000] | None = None,
        reset: bool = False,
    ) -> None:
        """Show, set or reset where the welcome goes, whether tips follow, and the rules text."""
        assert interaction.guild is not None
        given = any(value is not None for value in (where, channel, tips, rules))
        if await self._shown_instead(interaction, given, reset):
            return
        values: dict[str, int | str | None] = {}
        if reset:
            values = {"welcome_mode": None, "welcome_channel_id": None, "welcome_tips": None, "rules_text": None}
        if channel is not None:
            if where not in (None, CHANNEL):
                raise UserError(N_("A channel goes with “In a channel I choose”: leave where empty, or choose that."))
            check_can_post(channel)
            values.update(welcome_mode=CHANNEL, welcome_channel_id=channel.id)
        elif where == CHANNEL:
            current = await self.bot.guild_settings.get(interaction.guild.id)
            if current.welcome_channel_id is None:
                raise UserError(N_("Choose the channel too."))
            values["welcome_mode"] = CHANNEL
        elif where is not None:
            values.update(welcome_mode=where, welcome_channel_id=None)
        if tips is not None:
            values["welcome_tips"] = tips
        if rules is not None:
            values["rules_text"] = storable(rules, multiline=True).strip() or None
        config = await self.bot.guild_settings.update(interaction.guild.id, **values)
        await self._saved(interaction, config)

    async def _shown_instead(self, interaction: Interaction, given: bool, reset: bool) -> bool:
        """With neither a value nor reset, answer with the current settings (True); both at once is refused."""
        assert interaction.guild is not None
        if given and reset:
            raise UserError(N_("Give a value or reset, not both."))
        if not given and not reset:
            await self._answer(interaction, await self.bot.guild_settings.get(interaction.guild.id), CURRENT)
            return True
        return False

    async def _set_channel(
        self, interaction: Interaction, channel: discord.TextChannel | None, reset: bool, setting: str
    ) -> GuildConfig | None:
        """A channel setting shown (None), refused, or set to a channel the bot can post in, or reset."""
        assert interaction.guild is not None
        if await self._shown_instead(interaction, channel is not None, reset):
            return None
        if channel is not None:
            check_can_post(channel)
        return await self.bot.guild_settings.update(interaction.guild.id, **{setting: channel.id if channel else None})

    async def _saved(self, interaction: Interaction, config: GuildConfig) -> None:
        await self._answer(interaction, config, SAVED)


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Admin(bot))
