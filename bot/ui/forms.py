"""Modal forms of text inputs for one organiser, labelled in their language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.i18n import t
from bot.types import Interaction
from bot.ui.base import Authorise, BaseModal


@dataclass(frozen=True, slots=True)
class FormField:
    """One text input of a form: its id, English label (a msgid), size and whether it is required."""

    custom_id: str
    label: str
    max_length: int
    required: bool = False
    paragraph: bool = False


Save = Callable[[Interaction, dict[str, str]], Awaitable[None]]


class Form(BaseModal):
    """A modal of text inputs whose values go to `save`, accepted only as `BaseModal` allows."""

    def __init__(
        self,
        opened: Interaction,
        title: str,
        fields: list[tuple[FormField, str | None]],
        save: Save,
        *,
        authorise: Authorise | None = None,
    ) -> None:
        super().__init__(opened, title, authorise=authorise)
        self._save = save
        self._inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for field, default in fields:
            item: discord.ui.TextInput[Any] = discord.ui.TextInput(
                custom_id=field.custom_id,
                label=t(opened.locale, field.label),
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
