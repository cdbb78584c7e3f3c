"""The base View and Modal every component uses: who may use it, until when, and the one error path.

discord.py keeps open modals by ``custom_id`` alone (``ViewStore._modals``), so two modals with the same id
replace each other. Each modal's id is derived from the interaction that opened it, which Discord never
repeats, and the modal accepts a submit only from the member it was opened for, before it expires by the
bot's clock, after re-checking that member's rights (`authorise`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.errors import UserError
from bot.errors.reporting import report_error
from bot.i18n import N_
from bot.text import truncate
from bot.types import Interaction

MODAL_PREFIX = "modal:"
CLAIMED = "claimed-by-component"

Authorise = Callable[[Interaction], Awaitable[None]]
"""Re-checks, when a component is used, that its user may still do what it does; raises when not."""

NOT_YOURS = N_("This was opened for someone else: run the command yourself.")
EXPIRED = N_("This has expired and nothing was saved: run the command again.")
STALE = N_("This button is no longer valid: run the command again.")


def claim(interaction: Interaction) -> None:
    """Mark an interaction as handled by a component, so that `answer_unclaimed` leaves it alone.

    Call it before the handler's first await: discord.py starts the handler's task before the task that
    runs ``on_interaction``, so a claim made then is seen there.
    """
    interaction.extras[CLAIMED] = True


class Guard:
    """Who may use a component, until when, and what to re-check each time it is used."""

    def __init__(self, opened: Interaction, timeout: timedelta, authorise: Authorise | None) -> None:
        self.owner_id = opened.user.id
        self._clock = opened.client.app.clock
        self.expires_at: datetime = self._clock.now() + timeout
        self._authorise = authorise

    async def check(self, interaction: Interaction) -> bool:
        """Refuse (with a sentence) anyone but the owner, a use after expiry, and an owner who lost the right."""
        claim(interaction)
        if interaction.user.id != self.owner_id:
            raise UserError(NOT_YOURS)
        if self._clock.now() >= self.expires_at:
            raise UserError(EXPIRED)
        if self._authorise is not None:
            await self._authorise(interaction)
        return True


class BaseView(discord.ui.View):
    """A view for one member, for a limited time, whose errors reach the one reporter."""

    def __init__(self, opened: Interaction, *, authorise: Authorise | None = None) -> None:
        timeout = timedelta(seconds=opened.client.settings.form_timeout)
        super().__init__(timeout=timeout.total_seconds())
        self.guard = Guard(opened, timeout, authorise)

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Only the member it was opened for, while it lasts and while still allowed."""
        return await self.guard.check(interaction)

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        """Route to the bot's one error reporter."""
        await report_error(interaction, error, f"view {type(self).__name__}")


class BaseModal(discord.ui.Modal):
    """A modal for one member, with an id no other modal has, for a limited time; errors reach the reporter."""

    def __init__(self, opened: Interaction, title: str, *, authorise: Authorise | None = None) -> None:
        timeout = timedelta(seconds=opened.client.settings.form_timeout)
        super().__init__(
            title=truncate(title, 45), custom_id=f"{MODAL_PREFIX}{opened.id}", timeout=timeout.total_seconds()
        )
        self.guard = Guard(opened, timeout, authorise)

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Only the member it was opened for, while it lasts and while still allowed."""
        return await self.guard.check(interaction)

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, /
    ) -> None:
        """Route to the bot's one error reporter."""
        claim(interaction)
        await report_error(interaction, error, f"modal {self.title}")


async def answer_unclaimed(interaction: Interaction) -> None:
    """Answer what discord.py drops unanswered: a button nothing handles, a submit of a modal it no longer holds.

    A button is stale (its view expired or was decided, the bot restarted) or forged; a modal expired, or the
    bot restarted. discord.py looks the view, dynamic item or modal up and starts its task before it dispatches
    ``on_interaction``, and tasks start in the order they were created, so a handler that exists has claimed
    the interaction by now (`claim`). Components reach only the application whose message they are on.
    """
    if interaction.extras.get(CLAIMED):
        return
    if interaction.type is discord.InteractionType.component:
        await report_error(interaction, UserError(STALE), "a stale component")
        return
    if interaction.type is not discord.InteractionType.modal_submit:
        return
    custom_id = interaction.data.get("custom_id", "") if interaction.data else ""
    if isinstance(custom_id, str) and custom_id.startswith(MODAL_PREFIX):
        await report_error(interaction, UserError(EXPIRED), "an expired modal")
