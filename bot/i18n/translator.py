"""Slash command names, descriptions, options and choices in the member's language, when the tree syncs."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.i18n import COMMAND_NAME, NAME_LENGTH, OPTION_NAME, TEXT_LENGTH, translation, valid_name

_NAME_CONTEXTS = {
    TranslationContextLocation.command_name: COMMAND_NAME,
    TranslationContextLocation.group_name: COMMAND_NAME,
    TranslationContextLocation.parameter_name: OPTION_NAME,
}


class BotTranslator(app_commands.Translator):
    """Localised command names, descriptions, option names and descriptions, and choice names."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        """The catalogue text when it suits Discord's rules for that place, else None (English)."""
        name_context = _NAME_CONTEXTS.get(context.location)
        text = translation(locale, string.message, name_context)
        if text is None:
            return None
        if isinstance(context.data, app_commands.ContextMenu):
            return text if len(text) <= NAME_LENGTH else None
        if name_context is not None:
            return text if valid_name(text) else None
        return text if len(text) <= TEXT_LENGTH else None
