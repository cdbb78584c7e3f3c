"""The announcement form, its preview with Confirm / Edit / Cancel, and the lines of the schedule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.announcements.service import MAX_BODY, MAX_TITLE, AnnouncementService, Draft, Scheduled, embed
from bot.errors.reporting import report_error
from bot.i18n import N_, Localeish, t
from bot.times import complete_zones
from bot.types import Interaction
from bot.ui.base import claim
from bot.ui.checks import NotOrganiser, member_is_organiser, require_organiser
from bot.ui.forms import Form, FormField

TITLE = FormField("title", N_("Title"), MAX_TITLE, required=True)
BODY = FormField("body", N_("Text"), MAX_BODY, paragraph=True)
PREVIEW_SECONDS = 14 * 60  # inside the 15 minutes an interaction token lives


def channels_text(channel_ids: tuple[int, ...]) -> str:
    """The channels as mentions."""
    return ", ".join(f"<#{channel_id}>" for channel_id in channel_ids)


def when_text(draft: Draft | Scheduled, locale: Localeish) -> str:
    """'now', or the Discord timestamp (shown in each reader's zone) with the organiser's local time."""
    if draft.due_at is None:
        return t(locale, "as soon as you confirm")
    stamp = int(draft.due_at.timestamp())
    return f"<t:{stamp}:F> ({draft.local_time} {draft.zone})"


def preview_text(draft: Draft, locale: Localeish) -> str:
    """What the organiser is about to confirm, besides the post itself."""
    text = t(
        locale,
        "Preview: this goes to {channels}, {when}.",
        channels=channels_text(draft.channel_ids),
        when=when_text(draft, locale),
    )
    if draft.role_id:
        text += "\n" + t(locale, "It mentions <@&{role}>.", role=draft.role_id)
    return text


def schedule_line(item: Scheduled, locale: Localeish) -> str:
    """One line of `/announce list`."""
    return t(
        locale,
        "**{number}** · {title} · {when} · {channels}",
        number=item.id,
        title=discord.utils.escape_markdown(item.title),
        when=when_text(item, locale),
        channels=channels_text(item.channel_ids),
    )


def announcement_form(opened: Interaction, draft: Draft, done: Callable[[Interaction, Draft], Awaitable[None]]) -> Form:
    """The modal for the title and text, filled with the draft's; only its organiser, while an organiser."""

    async def save(interaction: Interaction, typed: dict[str, str]) -> None:
        await done(interaction, draft.with_text(typed["title"], typed["body"]))

    fields = [(TITLE, draft.title or None), (BODY, draft.body or None)]
    return Form(opened, t(opened.locale, "Announcement"), fields, save, authorise=require_organiser)


class Preview(discord.ui.View):
    """Confirm, edit or cancel a draft; only the organiser who wrote it, while still an organiser."""

    def __init__(self, service: AnnouncementService, draft: Draft, locale: Localeish) -> None:
        super().__init__(timeout=PREVIEW_SECONDS)
        self.service = service
        self.draft = draft
        self.confirm.label = t(locale, "Confirm")
        self.edit.label = t(locale, "Edit")
        self.cancel.label = t(locale, "Cancel")

    def content(self, locale: Localeish) -> dict[str, Any]:
        """The preview message's fields."""
        return {
            "content": preview_text(self.draft, locale),
            "embed": discord.Embed.from_dict(embed(self.draft.title, self.draft.body)),
            "view": self,
            "allowed_mentions": discord.AllowedMentions.none(),
        }

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """The author only, and only while an organiser."""
        claim(interaction)
        if interaction.user.id != self.draft.author_id or not await member_is_organiser(interaction):
            raise NotOrganiser()
        return True

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        """Route to the bot's one error reporter."""
        await report_error(interaction, error, "announcement preview")

    @discord.ui.button(style=discord.ButtonStyle.success, custom_id="announce:confirm")
    async def confirm(self, interaction: Interaction, _: discord.ui.Button[Preview]) -> None:
        """Schedule it (or post it now)."""
        scheduled = await self.service.schedule(self.draft)
        self.stop()
        locale = interaction.locale
        done = t(
            locale,
            "Announcement {number} is scheduled for {channels}, {when}. `/announce cancel` stops it before then.",
            number=scheduled.id,
            channels=channels_text(scheduled.channel_ids),
            when=when_text(scheduled, locale),
        )
        if self.draft.due_at is None:
            done = t(locale, "Posting now in {channels}.", channels=channels_text(scheduled.channel_ids))
        await interaction.response.edit_message(content=done, embed=None, view=None)

    @discord.ui.button(style=discord.ButtonStyle.secondary, custom_id="announce:edit")
    async def edit(self, interaction: Interaction, _: discord.ui.Button[Preview]) -> None:
        """Reopen the form with the draft's text."""

        async def edited(submitted: Interaction, draft: Draft) -> None:
            self.draft = draft
            await submitted.response.edit_message(**self.content(submitted.locale))

        await interaction.response.send_modal(announcement_form(interaction, self.draft, edited))

    @discord.ui.button(style=discord.ButtonStyle.danger, custom_id="announce:cancel")
    async def cancel(self, interaction: Interaction, _: discord.ui.Button[Preview]) -> None:
        """Drop the draft; nothing was posted."""
        self.stop()
        await interaction.response.edit_message(
            content=t(interaction.locale, "Cancelled: nothing was posted."), embed=None, view=None
        )


async def zone_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """IANA zones matching what was typed."""
    return [app_commands.Choice(name=name, value=name) for name in complete_zones(current[:60])]
