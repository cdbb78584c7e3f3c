"""Organiser announcements: write, preview, schedule, list and cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.announcements.service import Draft
from bot.errors import UserError
from bot.i18n import N_, t
from bot.types import Interaction
from bot.ui.announcements import Preview, announcement_form, schedule_line, zone_choices
from bot.ui.checks import check_can_post, member_is_organiser, organiser_only

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

MAX_LISTED = 20


def check_can_mention(role: discord.Role) -> None:
    """Refuse @everyone and a role the bot may not ping."""
    if role.is_default():
        raise UserError(N_("I never ping @everyone: choose a role, or none."))
    if not (role.mentionable or role.guild.me.guild_permissions.mention_everyone):
        raise UserError(
            N_("I cannot ping {role}: make the role mentionable, or give me Mention All Roles."), role=role.name
        )


class Announcements(commands.Cog):
    """Announcements that organisers write and schedule."""

    announce = app_commands.Group(
        name="announce", description="Organisers: write, schedule and cancel announcements", guild_only=True
    )

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot
        self.service = bot.app.announcements

    @announce.command(name="new", description="Write an announcement, preview it, then post or schedule it")
    @app_commands.describe(
        channel="Where to post it",
        when="Local date and time, YYYY-MM-DD HH:MM; empty: as soon as you confirm",
        timezone="Time zone of that time, e.g. Europe/Bucharest; empty: this server's",
        role="A role to mention",
        also_in="Another channel",
        and_in="One more channel",
    )
    @app_commands.autocomplete(timezone=zone_choices)
    @organiser_only()
    async def new(
        self,
        interaction: Interaction,
        channel: discord.TextChannel,
        when: app_commands.Range[str, 1, 40] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        role: discord.Role | None = None,
        also_in: discord.TextChannel | None = None,
        and_in: discord.TextChannel | None = None,
    ) -> None:
        """Check the options, then open the form."""
        assert interaction.guild is not None
        channels = [c for c in (channel, also_in, and_in) if c is not None]
        for target in channels:
            check_can_post(target)
        if role is not None:
            check_can_mention(role)
        config = await self.bot.guild_settings.get(interaction.guild.id)
        draft = self.service.draft(
            guild_id=interaction.guild.id,
            author_id=interaction.user.id,
            channel_ids=[c.id for c in channels],
            zone_name=timezone or config.timezone or "UTC",
            when=when,
            role_id=role.id if role else None,
        )

        async def preview(submitted: Interaction, written: Draft) -> None:
            view = Preview(self.service, written, submitted.locale)
            await submitted.response.send_message(ephemeral=True, **view.content(submitted.locale))

        await interaction.response.send_modal(announcement_form(interaction, draft, preview))

    @announce.command(name="list", description="Announcements scheduled in this server")
    @organiser_only()
    async def listing(self, interaction: Interaction) -> None:
        """The schedule, soonest first."""
        assert interaction.guild is not None
        waiting = await self.service.scheduled(interaction.guild.id)
        locale = interaction.locale
        if not waiting:
            text = t(locale, "No announcement is scheduled.")
        else:
            lines = [schedule_line(item, locale) for item in waiting[:MAX_LISTED]]
            if len(waiting) > MAX_LISTED:
                lines.append(t(locale, "… and {count} more.", count=len(waiting) - MAX_LISTED))
            text = "\n".join(lines)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())

    @announce.command(name="cancel", description="Stop a scheduled announcement")
    @app_commands.describe(number="The announcement's number, from /announce list")
    @organiser_only()
    async def cancel(self, interaction: Interaction, number: app_commands.Range[int, 1, 2**31 - 1]) -> None:
        """Cancel before it goes out."""
        assert interaction.guild is not None
        stopped = await self.service.cancel(interaction.guild.id, number)
        await interaction.response.send_message(
            t(interaction.locale, "Cancelled announcement {number}: {title}.", number=stopped.id, title=stopped.title),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @cancel.autocomplete("number")
    async def _numbers(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        if interaction.guild is None or not await member_is_organiser(interaction):
            return []
        waiting = await self.service.scheduled(interaction.guild.id)
        return [
            app_commands.Choice(name=f"{item.id} · {item.title}"[:100], value=item.id)
            for item in waiting
            if current.strip() in str(item.id) or current.strip().lower() in item.title.lower()
        ][:25]


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Announcements(bot))
