"""Onboarding commands: a new partner's role, category and channels, previewed, then created once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.directory.authority import directory_right
from bot.directory.service import TIERS, ChapterInfo
from bot.errors import UserError
from bot.i18n import N_, t
from bot.onboarding.apply import ROLE
from bot.onboarding.offboard import ARCHIVE, DELETE
from bot.onboarding.offboard import refusals as offboard_refusals
from bot.onboarding.plan import PartnerPlan, plan_partner, refusals, taken_channel_names
from bot.onboarding.service import NewChapter, PartnerExtras
from bot.text import well_formed
from bot.types import Interaction
from bot.ui.checks import Refused, organiser_only, require_home_organiser, require_organiser
from bot.ui.confirm import Choice, Decision
from bot.ui.directory import TIER_LABELS
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
from bot.ui.welcome import post_locale

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


TIER_CHOICES = [app_commands.Choice(name=TIER_LABELS[tier], value=tier) for tier in TIERS]
ONE_CHAPTER = N_("Give either a chapter from the directory or a new chapter's name (new_name), not both.")
NEW_ONLY = N_("Country, tier, website, feed and calendar describe a new chapter: give them with new_name.")


class Onboarding(commands.Cog):
    """Partners get their own space, in one confirmed step."""

    onboard = app_commands.Group(
        name="onboard", description="Organisers: give a new partner its own space", guild_only=True
    )

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot

    async def _plan(
        self, interaction: Interaction, key: str, name: str, short: str, public: bool, members: list[int]
    ) -> tuple[PartnerPlan, DiscordGuild]:
        guild = interaction.guild
        if guild is None:
            raise app_commands.NoPrivateMessage()
        config = await self.bot.guild_settings.get(guild.id)
        organisers = (
            config.organiser_role_id if config.organiser_role_id and guild.get_role(config.organiser_role_id) else None
        )
        plan = plan_partner(
            key, name, short, representatives=members, public=public, has_organiser_role=organisers is not None
        )
        return plan, DiscordGuild(guild, organisers, self.bot.http)

    async def _extras(self, guild: discord.Guild, chapter: ChapterInfo | NewChapter) -> PartnerExtras:
        config = await self.bot.guild_settings.get(guild.id)
        channel_id = config.announcements_channel_id
        if channel_id is not None and guild.get_channel(channel_id) is None:
            channel_id = None  # deleted since it was chosen
        if isinstance(chapter, NewChapter):
            values = chapter.values
            feed, events, website, about = values.get("feed_url"), values.get("events_url"), values.get("website"), None
        else:
            feed, events, website, about = chapter.feed_url, chapter.events_url, chapter.website, chapter.description
        return PartnerExtras(channel_id, feed, events, post_locale(guild, config), website, about)

    async def _new_chapter(
        self, interaction: Interaction, name: str, short_name: str | None, values: dict[str, str | None]
    ) -> NewChapter:
        """The new chapter as the directory would add it: only the home server's organisers add chapters."""
        await require_home_organiser(interaction)
        fields = {"name": well_formed(name), "short_name": well_formed(short_name) if short_name else None}
        fields |= {key: well_formed(value) for key, value in values.items() if value}
        return await self.bot.app.onboarding.draft_chapter({k: v for k, v in fields.items() if v})

    @onboard.command(name="partner", description="Create a partner's role, category and channels (organisers)")
    @app_commands.describe(
        chapter="The partner's chapter in the directory",
        short_name="Short name used in channel names, e.g. tw",
        public="Channels visible to everyone (default: private to the partner and organisers)",
        representative="A member who gets the partner role",
        representative_2="Another member who gets the partner role",
        representative_3="Another member who gets the partner role",
        new_name="A chapter not yet in the directory: its name (home server; added on Confirm)",
        country="New chapter: its country, two letters, e.g. TW",
        tier="New chapter: its place in the network",
        website="New chapter: its website",
        feed="New chapter: its blog's RSS or Atom feed",
        calendar="New chapter: its iCalendar feed",
    )
    @app_commands.choices(tier=TIER_CHOICES)
    @organiser_only()
    async def partner(
        self,
        interaction: Interaction,
        chapter: Chapter | None = None,
        short_name: app_commands.Range[str, 1, 40] | None = None,
        public: bool = False,
        representative: discord.Member | discord.User | None = None,
        representative_2: discord.Member | discord.User | None = None,
        representative_3: discord.Member | discord.User | None = None,
        new_name: app_commands.Range[str, 1, 100] | None = None,
        country: app_commands.Range[str, 2, 2] | None = None,
        tier: str | None = None,
        website: app_commands.Range[str, 1, 300] | None = None,
        feed: app_commands.Range[str, 1, 300] | None = None,
        calendar: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        """Show the plan; Confirm applies it, Cancel changes nothing."""
        people = [m for m in (representative, representative_2, representative_3) if m is not None]
        if any(not isinstance(m, discord.Member) for m in people):
            raise UserError(N_("Representatives must be members of this server."))
        if any(m.bot for m in people):
            raise UserError(N_("Representatives must be people, not bots."))
        if (chapter is None) == (new_name is None):
            raise UserError(ONE_CHAPTER)
        described = {"country": country, "tier": tier, "website": website, "feed_url": feed, "events_url": calendar}
        if chapter is not None and any(described.values()):
            raise UserError(NEW_ONLY)
        found_chapter: ChapterInfo | NewChapter
        if new_name is not None:
            found_chapter = await self._new_chapter(
                interaction, new_name, short_name, {**described, "country": country.upper() if country else None}
            )
        else:
            assert chapter is not None
            found_chapter = chapter
        short = short_name or found_chapter.short_name or found_chapter.key
        members = [m.id for m in people]
        plan, port = await self._plan(interaction, found_chapter.key, found_chapter.name, short, public, members)
        guild = interaction.guild
        assert guild is not None
        service = self.bot.app.onboarding
        found = await service.survey(plan, port, guild.id)
        taken = taken_channel_names(plan, {c.id: c.name for c in guild.channels}, found.present.values())
        if taken:
            raise UserError(
                N_("#{channel} already exists in this server: choose another short name."), channel=taken[0]
            )
        problems = refusals(plan, guild_facts(guild), found.present.get(ROLE))
        if problems:
            raise (
                problems[0]
                if len(problems) == 1
                else UserError(
                    N_("I cannot onboard this partner:\n{reasons}"),
                    reasons="\n".join(f"• {p.translated(interaction.locale)}" for p in problems),
                )
            )
        wanted = await self._extras(guild, found_chapter)
        steps = await service.survey_extras(plan, wanted, port, guild.id)

        async def confirm(pressed: Interaction) -> str:
            assert pressed.guild is not None
            # The guild may have changed while the preview was open: check again, then apply.
            again = refusals(plan, guild_facts(pressed.guild), found.present.get(ROLE))
            if again:
                return again[0].translated(pressed.locale)
            actor_id, actor_name = pressed.user.id, str(pressed.user)
            if isinstance(found_chapter, NewChapter):
                try:
                    await require_home_organiser(pressed)
                    await service.add_chapter(found_chapter, actor_id=actor_id, actor_name=actor_name)
                except UserError as error:
                    return error.translated(pressed.locale)
                except Refused as refused:
                    return t(pressed.locale, refused.message)
            outcome = await service.apply(
                plan, port, pressed.guild.id, actor_id=actor_id, actor_name=actor_name, wanted=wanted, prompts=port
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
            embed=plan_embed(plan, found, interaction.locale, steps), view=view, ephemeral=True
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
        port = DiscordGuild(guild, None, self.bot.http)
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
