"""A preview with buttons for one organiser: each button runs its action and replaces the preview with the outcome."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import discord

from bot.i18n import t
from bot.types import Interaction
from bot.ui.base import EXPIRED, Authorise, BaseView

Action = Callable[[Interaction], Awaitable[str]]
"""Does what a button says and returns the sentence that replaces the preview."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One button: its label (a msgid), style and action."""

    label: str
    style: discord.ButtonStyle
    action: Action
    slow: bool = False  # acknowledged before the action runs, for actions that may outlast Discord's 3 s


class Decision(BaseView):
    """Buttons under a preview for one member; a press that succeeds decides and takes the buttons away."""

    def __init__(self, opened: Interaction, choices: Sequence[Choice], *, authorise: Authorise | None = None) -> None:
        super().__init__(opened, authorise=authorise)
        self._opened = opened
        for choice in choices:
            button: discord.ui.Button[Decision] = discord.ui.Button(
                label=t(opened.locale, choice.label), style=choice.style
            )
            button.callback = self._pressed(choice)  # type: ignore[method-assign, assignment]
            self.add_item(button)

    def _pressed(self, choice: Choice) -> Callable[[Interaction], Awaitable[None]]:
        async def callback(interaction: Interaction) -> None:
            if not choice.slow:
                outcome = await choice.action(interaction)
                self.stop()
                await interaction.response.edit_message(content=outcome, embed=None, view=None)
                return
            self.stop()  # a slow action runs once: the first press decides
            await interaction.response.defer()
            outcome = await choice.action(interaction)
            await interaction.edit_original_response(content=outcome, embed=None, view=None)

        return callback

    async def on_timeout(self) -> None:
        """Take the buttons away and say so."""
        with contextlib.suppress(discord.HTTPException):
            await self._opened.edit_original_response(content=t(self._opened.locale, EXPIRED), embed=None, view=None)
