"""The one way errors reach people: known errors as a sentence, the rest as an incident id in the logs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import UserError, log_incident
from bot.i18n import N_, Localeish, t
from bot.text import truncate
from bot.types import Interaction
from bot.ui.checks import Refused
from db.session import database_unavailable

if TYPE_CHECKING:
    from bot.client import CodeForAllBot  # noqa: F401  (the tree's client type, quoted below)

log = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED = 40060


def explain(error: Exception, locale: Localeish) -> str | None:
    """The sentence a user sees for a known error, in their language, or None for an unexpected one."""
    original = getattr(error, "original", error)
    if isinstance(original, app_commands.TransformerError) and original.__cause__ is not None:
        # A transformer that failed: its own sentence (e.g. "did you mean"), or an unexpected error.
        original = original.__cause__
        return original.translated(locale) if isinstance(original, UserError) else None
    if isinstance(original, UserError):
        return original.translated(locale)
    if isinstance(error, app_commands.CommandOnCooldown):
        return t(locale, "Slow down: try again in {seconds} s.", seconds=round(error.retry_after))
    if isinstance(error, app_commands.MissingPermissions):
        permissions = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return t(locale, "You need the {permissions} permission.", permissions=permissions)
    if isinstance(error, app_commands.BotMissingPermissions):
        permissions = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return t(locale, "I need the {permissions} permission here.", permissions=permissions)
    if isinstance(error, app_commands.NoPrivateMessage):
        return t(locale, "This command works in a server only.")
    if isinstance(error, app_commands.TransformerError):
        return t(locale, "“{value}” is not a valid value here.", value=truncate(str(error.value), 100))
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return t(locale, "This command has just changed: please try it again in a minute.")
    if isinstance(error, Refused):
        return t(locale, error.message)
    if isinstance(error, app_commands.CheckFailure):
        return t(locale, "You are not allowed to use this command.")
    return None


class BotTree(app_commands.CommandTree["CodeForAllBot"]):
    """Routes every command error to one handler."""

    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError) -> None:
        """Answer known errors with a sentence; log the rest with an incident id."""
        where = f"/{interaction.command.qualified_name}" if interaction.command else "a command"
        await report_error(interaction, error, where)


async def report_error(interaction: Interaction, error: Exception, where: str) -> None:
    """The one way errors reach users: a known error's sentence, or an incident id for the logs."""
    original = getattr(error, "original", error)
    if isinstance(original, discord.HTTPException) and original.code == ALREADY_ACKNOWLEDGED:
        # discord.py retried an answer whose first attempt reached Discord (its reply was lost): the member has it.
        log.warning("%s: interaction %s was already answered; not answering it again", where, interaction.id)
        return
    message = explain(error, interaction.locale)
    if message is None:
        incident = log_incident(where, error)
        if database_unavailable(original):
            text = N_(
                "My database is not available, so nothing was saved (incident `{incident}`). Please tell the bot's operator."
            )
        else:
            text = N_("Something went wrong on my side (incident `{incident}`). Organisers can look it up.")
        message = t(interaction.locale, text, incident=incident)
    await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: Interaction, message: str) -> None:
    """Reply privately whether or not the interaction was already answered."""
    none = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=none)
        else:
            await interaction.response.send_message(message, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id)
