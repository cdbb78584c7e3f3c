"""Modal forms of text inputs, labelled in the member's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors.reporting import report_error
from bot.i18n import Localeish, t
from bot.text import truncate
from bot.types import Interaction


@dataclass(frozen=True, slots=True)
class FormField:
    """One text input of a form: its id, English label (a msgid), size and whether it is required."""

    custom_id: str
    label: str
    max_length: int
    required: bool = False
    paragraph: bool = False


Save = Callable[[Interaction, dict[str, str]], Awaitable[None]]


class Form(discord.ui.Modal):
    """A modal of text inputs whose values go to `save`; errors reach the bot's one reporter."""

    def __init__(self, title: str, fields: list[tuple[FormField, str | None]], locale: Localeish, save: Save) -> None:
        super().__init__(title=truncate(title, 45), custom_id="form")
        self._save = save
        self._inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for field, default in fields:
            item: discord.ui.TextInput[Any] = discord.ui.TextInput(
                custom_id=field.custom_id,
                label=t(locale, field.label),
                style=discord.TextStyle.paragraph if field.paragraph else discord.TextStyle.short,
                required=field.required,
                max_length=field.max_length,
                default=default,
            )
            self._inputs[field.custom_id] = item
            self.add_item(item)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Hand the typed values over."""
        await self._save(interaction, {name: item.value for name, item in self._inputs.items()})

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, /
    ) -> None:
        """Route to the bot's one error reporter."""
        await report_error(interaction, error, f"form {self.title}")
