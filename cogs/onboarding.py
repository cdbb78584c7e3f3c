"""Onboarding commands: a new partner's role, category and channels, previewed, then created once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.directory.authority import directory_right
from bot.errors import UserError
from bot.i18n import N_, t
from bot.onboarding.offboard import ARCHIVE, DELETE
from bot.onboarding.offboard import refusals as offboard_refusals
from bot.onboarding.plan import PartnerPlan, plan_partner, refusals
from bot.types import Interaction
from bot.ui.checks import organiser_only, require_organiser
from bot.ui.confirm import Choice, Decision
from bot.ui.discord_guild import DiscordGuild, guild_facts
from bot.ui.onboarding import (
    SpaceChapter,
    nothing_to_offboard,
    offboard_embed,
    offboard_outcome_text,
    outcome_text,
    plan_embed,
    space_names,
)
from bot.ui.transformers import Chapter

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

OFFBOARD_MODES = [
    app_commands.Choice(name="Archive: read-only, in the archive category", value=ARCHIVE),
    app_commands.Choice(name="Delete the channels, category and role", value=DELETE),
]


def _one_error(problems: list[UserError], intro: str, interaction: Interaction) -> UserError:
    """One refusal as it is, several as a list under `intro` (a msgid with {reasons})."""
    if len(problems) == 1:
        return problems[0]
    return UserError(intro, reasons="\n".join(f"• {p.translated(interaction.locale)}" for p in problems))


class Onboarding(commands.Cog):
    """Partners get their own space, in one confirmed step."""

    onboard = app_commands.Group(
        name="onboard", description="Organisers: give a new partner its own space", guild_only=True
    )

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot

    async def _plan(
        self, interaction: Interaction, chapter: Chapter, short_name: str | None, public: bool, members: list[int]
    ) -> tuple[PartnerPlan, DiscordGuild]:
        guild = interaction.guild
        if guild is None:
            raise app_commands.NoPrivateMessage()
        config = await self.bot.guild_settings.get(guild.id)
        organisers = (
            config.organiser_role_id if config.organiser_role_id and guild.get_role(config.organiser_role_id) else None
        )
        plan = plan_partner(
            chapter.key,
            chapter.name,
            short_name or chapter.short_name or chapter.key,
            representatives=members,
            public=public,
            has_organiser_role=organisers is not None,
        )
        return plan, DiscordGuild(guild, organisers)

    @onboard.command(name="partner", description="Create a partner's role, category and channels (organisers)")
    @app_commands.describe(
        chapter="The partner's chapter in the directory",
        short_name="Short name used in channel names, e.g. tw",
        public="Channels visible to everyone (default: private to the partner and organisers)",
        representative="A member who gets the partner role",
        representative_2="Another member who gets the partner role",
        representative_3="Another member who gets the partner role",
    )
    @organiser_only()
    async def partner(
        self,
        interaction: Interaction,
        chapter: Chapter,
        short_name: app_commands.Range[str, 1, 40] | None = None,
        public: bool = False,
        representative: discord.Member | None = None,
        representative_2: discord.Member | None = None,
        representative_3: discord.Member | None = None,
    ) -> None:
        """Show the plan; Confirm applies it, Cancel changes nothing."""
        members = [m.id for m in (representative, representative_2, representative_3) if m is not None]
        if any(m.bot for m in (representative, representative_2, representative_3) if m is not None):
            raise UserError(N_("Representatives must be people, not bots."))
        plan, port = await self._plan(interaction, chapter, short_name, public, members)
        assert interaction.guild is not None
        found = await self.bot.app.onboarding.survey(plan, port, interaction.guild.id)
        problems = refusals(plan, guild_facts(interaction.guild), found.present.get("role"))
        if problems:
            raise (
                problems[0]
                if len(problems) == 1
                else UserError(
                    N_("I cannot onboard this partner:\n{reasons}"),
                    reasons="\n".join(f"• {p.translated(interaction.locale)}" for p in problems),
                )
            )

        async def confirm(pressed: Interaction) -> str:
            assert pressed.guild is not None
            # The guild may have changed while the preview was open: check again, then apply.
            again = refusals(plan, guild_facts(pressed.guild), found.present.get("role"))
            if again:
                return again[0].translated(pressed.locale)
            outcome = await self.bot.app.onboarding.apply(
                plan, port, pressed.guild.id, actor_id=pressed.user.id, actor_name=str(pressed.user)
            )
            return outcome_text(plan, outcome, pressed.locale)

        async def cancel(pressed: Interaction) -> str:
            return t(pressed.locale, "Nothing was changed.")

        choices = [
            Choice(N_("Confirm"), discord.ButtonStyle.success, confirm, slow=True),
            Choice(N_("Cancel"), discord.ButtonStyle.secondary, cancel),
        ]
        view = Decision(interaction, choices, authorise=require_organiser)
        await interaction.response.send_message(
            embed=plan_embed(plan, found, interaction.locale), view=view, ephemeral=True
        )

    offboard = app_commands.Group(
        name="offboard", description="Organisers: archive or delete a partner's space", guild_only=True
    )

    @offboard.command(name="partner", description="Archive or delete a partner's space (organisers)")
    @app_commands.describe(
        chapter="A chapter with a space in this server",
        mode="Archive (read-only, the default) or delete",
        keep_role="Archive only: keep the partner's role (default) or delete it",
    )
    @app_commands.choices(mode=OFFBOARD_MODES)
    @organiser_only()
    async def offboard_partner(
        self,
        interaction: Interaction,
        chapter: SpaceChapter,
        mode: str = ARCHIVE,
        keep_role: bool | None = None,
    ) -> None:
        """Show exactly what offboarding does; Confirm does it, Cancel changes nothing."""
        guild = interaction.guild
        if guild is None:
            raise app_commands.NoPrivateMessage()
        if mode == DELETE and keep_role:
            raise UserError(N_("Deleting a space deletes its role too: archive it to keep the role."))
        service = self.bot.app.offboarding
        right = directory_right(self.bot.settings.home_guild_id, guild.id)
        port = DiscordGuild(guild, None)
        facts = guild_facts(guild)
        keep = keep_role is not False
        plan = await service.plan(port, guild.id, chapter, mode, keep_role=keep, facts=facts, right=right)
        if plan.nothing_to_do:
            await interaction.response.send_message(nothing_to_offboard(plan, interaction.locale), ephemeral=True)
            return
        problems = offboard_refusals(plan, facts)
        if problems:
            raise _one_error(problems, N_("I cannot offboard this partner:\n{reasons}"), interaction)
        names = space_names(guild, plan)

        async def confirm(pressed: Interaction) -> str:
            assert pressed.guild is not None
            now = guild_facts(pressed.guild)  # the guild may have changed while the preview was open
            again = offboard_refusals(plan, now)
            if again:
                return again[0].translated(pressed.locale)
            outcome = await service.apply(
                plan,
                port,
                chapter,
                facts=now,
                right=right,
                actor_id=pressed.user.id,
                actor_name=str(pressed.user),
                guild_name=pressed.guild.name,
            )
            return offboard_outcome_text(outcome, names, pressed.locale)

        async def cancel(pressed: Interaction) -> str:
            return t(pressed.locale, "Nothing was changed.")

        choices = [
            Choice(N_("Confirm"), discord.ButtonStyle.danger, confirm, slow=True),
            Choice(N_("Cancel"), discord.ButtonStyle.secondary, cancel),
        ]
        view = Decision(interaction, choices, authorise=require_organiser)
        await interaction.response.send_message(
            embed=offboard_embed(plan, names, interaction.locale), view=view, ephemeral=True
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Onboarding(bot))
