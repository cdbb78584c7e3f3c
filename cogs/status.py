"""How the bot is doing: `/status` for organisers, and the same as one log line every few minutes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.health import look
from bot.i18n import t
from bot.types import Interaction
from bot.ui.checks import organiser_only

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

log = logging.getLogger(__name__)

LOG_JOB = "status-log"
LOG_SECONDS = 300.0


class Status(commands.Cog):
    """The bot's health."""

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Log the status every few minutes, in every process."""
        self.bot.scheduler.every(LOG_JOB, LOG_SECONDS, self._log, leader_only=False)

    async def _log(self) -> None:
        health = await look(self.bot.sessions, self.bot.app.clock, self.bot.scheduler.leadership)
        log.info("%s, %s", health.log_line(), self._process())

    def _process(self) -> str:
        return f"{self.bot.describe_process()}, gateway {self.bot.latency * 1000:.0f} ms"

    @app_commands.command(name="status", description="Organisers: how the bot is doing")
    @app_commands.guild_only()
    @organiser_only()
    async def status(self, interaction: Interaction) -> None:
        """Version, uptime, this process, the scheduler, the outbox, feeds and the database."""
        health = await look(self.bot.sessions, self.bot.app.clock, self.bot.scheduler.leadership)
        locale = interaction.locale
        oldest = f"<t:{int(health.oldest_due.timestamp())}:R>" if health.oldest_due else t(locale, "none")
        lines = [
            t(
                locale,
                "Version {version}, up since <t:{since}:R>",
                version=health.version,
                since=int(health.started_at.timestamp()),
            ),
            t(
                locale,
                "This process: {process}; {role}",
                process=self._process(),
                role=t(locale, "runs the scheduled work") if health.leader else t(locale, "stands by"),
            ),
            t(
                locale,
                "Scheduled work (feeds, calendars, reminders, posts) runs in: {leader}",
                leader=health.leader_name or t(locale, "no process right now; a standby takes over within seconds"),
            ),
            t(locale, "Database round trip: {ms} ms", ms=f"{health.database_ms:.1f}"),
            t(
                locale,
                "Posts waiting: {count} (oldest due {oldest}); failed for good: {failed}",
                count=health.backlog,
                oldest=oldest,
                failed=health.failed_deliveries,
            ),
            t(
                locale,
                "Feeds: {count}, {failing} failing, {stopped} stopped; calendars failing: {calendars}",
                count=health.feeds,
                failing=health.feeds_failing,
                stopped=health.feeds_disabled,
                calendars=health.calendars_failing,
            ),
        ]
        await interaction.response.send_message(
            "\n".join(lines), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Status(bot))
