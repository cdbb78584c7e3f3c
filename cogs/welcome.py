"""Newcomers: the welcome on joining, the chapter roles organisers map, and /privacy for every member."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.i18n import N_, t
from bot.types import Interaction
from bot.ui.checks import organiser_only
from bot.ui.confirm import Choice, Decision
from bot.ui.transformers import Chapter
from bot.ui.welcome import (
    PANEL,
    ChapterPageButton,
    ChapterSelect,
    RegionSelect,
    WelcomeButton,
    check_mappable,
    greet,
    kept_text,
    post_locale,
    welcome_view,
)

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

ITEMS = (WelcomeButton, RegionSelect, ChapterSelect, ChapterPageButton)
FORGET = N_(
    "This deletes everything I store about you, in every server: your chapter picks, the joins I welcomed, your "
    "event reminders and the tips still to come. Your roles stay as they are."
)
FORGOTTEN = N_(
    "Done. I deleted your chapter picks ({picks}), the joins I welcomed ({joins}) and your event reminders "
    "({reminders}), and cancelled the tips still to come ({tips})."
)


class Welcome(commands.Cog):
    """Newcomers find their chapter; every member sees and deletes what the bot stores about them."""

    welcome = app_commands.Group(
        name="welcome", description="Organisers: the welcome panel and the roles of chapters", guild_only=True
    )
    privacy = app_commands.Group(name="privacy", description="See or delete what I store about you")

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Register the welcome's components, which keep working after a restart."""
        self.bot.add_dynamic_items(*ITEMS)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        """Welcome a newcomer once, and plan their tips."""
        if not member.bot:
            await greet(self.bot, member)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A member left: what was still to be sent to them is cancelled."""
        await self.bot.app.welcome.leave(payload.guild_id, payload.user.id)

    @welcome.command(name="map-role", description="Give members who pick a chapter an existing role (organisers)")
    @app_commands.describe(
        chapter="The chapter",
        role="The role they get; leave empty to see the current one",
        reset="Go back to a role I make for the chapter",
    )
    @organiser_only()
    async def map_role(
        self, interaction: Interaction, chapter: Chapter, role: discord.Role | None = None, reset: bool = False
    ) -> None:
        """Show, set or reset the role of a chapter here."""
        assert interaction.guild is not None
        guild, welcome, locale = interaction.guild, self.bot.app.welcome, interaction.locale
        if role is not None and reset:
            raise UserError(N_("Give a value or reset, not both."))
        if role is not None:
            check_mappable(guild, role, await welcome.partner_roles(guild.id))
            await welcome.map_role(guild.id, chapter.key, role.id)
        elif reset:
            await welcome.map_role(guild.id, chapter.key, None)
        current = (await welcome.chapter_roles(guild.id)).get(chapter.key)
        if current is None:
            text = t(locale, "Members who pick {chapter} get a role I make for it.", chapter=chapter.name)
        else:
            text = t(locale, "Members who pick {chapter} get {role}.", chapter=chapter.name, role=f"<@&{current}>")
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @welcome.command(name="panel", description="Post the welcome's buttons here, for members already in (organisers)")
    @organiser_only()
    async def panel(self, interaction: Interaction) -> None:
        """The panel members who joined before the bot use to pick their chapter."""
        assert interaction.guild is not None
        locale = post_locale(interaction.guild, await self.bot.guild_settings.get(interaction.guild.id))
        await interaction.response.send_message(
            t(locale, PANEL),
            view=welcome_view(interaction.guild.id, locale),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @privacy.command(name="show", description="What I store about you, in every server")
    async def show(self, interaction: Interaction) -> None:
        """Chapter picks, welcomed joins, event reminders and tips still to come."""
        kept = await self.bot.app.welcome.kept(interaction.user.id)
        await interaction.response.send_message(
            kept_text(self.bot, kept, interaction.locale),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @privacy.command(name="forget", description="Delete what I store about you, after you confirm")
    async def forget(self, interaction: Interaction) -> None:
        """Confirm deletes it all and cancels what was still to be sent; Cancel keeps it."""
        if (await self.bot.app.welcome.kept(interaction.user.id)).empty:
            await interaction.response.send_message(t(interaction.locale, "I store nothing about you."), ephemeral=True)
            return

        async def confirm(pressed: Interaction) -> str:
            done = await self.bot.app.welcome.forget(pressed.user.id)
            return t(
                pressed.locale,
                FORGOTTEN,
                picks=done.picks,
                joins=done.arrivals,
                reminders=done.reminders,
                tips=done.tips,
            )

        async def cancel(pressed: Interaction) -> str:
            return t(pressed.locale, "Nothing was changed.")

        choices = [
            Choice(N_("Confirm"), discord.ButtonStyle.danger, confirm),
            Choice(N_("Cancel"), discord.ButtonStyle.secondary, cancel),
        ]
        await interaction.response.send_message(
            t(interaction.locale, FORGET), view=Decision(interaction, choices), ephemeral=True
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Welcome(bot))
