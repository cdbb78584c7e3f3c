"""Directory commands: chapters, projects, the network overview, and organisers' edits."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.directory.formats.isolated import parse_isolated
from bot.directory.formats.reading import MAX_BYTES
from bot.directory.proposals import already_decided
from bot.directory.records import REGIONS
from bot.directory.service import STATUSES, TIERS, DirectoryService, require_searchable
from bot.errors import UserError
from bot.i18n import N_, locale_tag, number, t
from bot.text import truncate, well_formed
from bot.types import Interaction
from bot.ui.checks import home_organiser_only, organiser_only, require_directory_right, require_home_organiser
from bot.ui.confirm import Choice, Decision
from bot.ui.directory import (
    CHAPTERS,
    PROJECTS,
    TIER_LABELS,
    ChapterCards,
    Rendered,
    chapter_embed,
    chapters_listing,
    country_choices,
    file_label,
    find_country_code,
    find_region,
    find_tier,
    history_embed,
    issue_line,
    network_chart,
    overview_embed,
    project_embed,
    projects_args,
    projects_listing,
    region_choices,
    tier_choices,
)
from bot.ui.editing import chapter_form, project_form, proposal_embed, proposals_embed
from bot.ui.pages import Page, PageButton, encode_args, register_source, render_page
from bot.ui.transformers import Chapter, Project

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

log = logging.getLogger(__name__)

MAX_QUERY = 60
UPLOAD_LIMIT = 10 * 1024 * 1024
"""Discord's upload limit outside a server (a server's own may be larger)."""
CHART_IN_ENGLISH = N_("The chart is labelled in English: no font here can draw your language.")
PROGRESS_EVERY = 2.0  # seconds between progress updates of a long import

TIER_CHOICES = [app_commands.Choice(name=TIER_LABELS[tier], value=tier) for tier in TIERS]
STATUS_CHOICES = [app_commands.Choice(name=s.capitalize(), value=s) for s in STATUSES]
REGION_CHOICES = [app_commands.Choice(name=r, value=r) for r in REGIONS]


def _directory(client: CodeForAllBot) -> DirectoryService:
    return client.directory


def _choices(found: list[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=truncate(name, 100), value=value) for name, value in found]


async def _tier_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _choices(tier_choices(well_formed(current), interaction.locale))


async def _region_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _choices(region_choices(well_formed(current), interaction.locale))


async def _country_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return _choices(country_choices(_directory(interaction.client), well_formed(current), interaction.locale))


async def _topic_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=truncate(topic, 100), value=topic[:100])
        for topic in _directory(interaction.client).complete_topics(current)
    ]


def _actor(interaction: Interaction) -> dict[str, Any]:
    return {"actor_id": interaction.user.id, "actor_name": str(interaction.user)}


async def _answer_late(interaction: Interaction, text: str) -> None:
    """Answer after long work: a follow-up, else (the token lasts 15 minutes) a direct message."""
    try:
        await interaction.followup.send(text, ephemeral=True)
        return
    except discord.HTTPException as error:
        log.info("follow-up for interaction %s failed (%s); answering by direct message", interaction.id, error.status)
    try:
        await interaction.user.send(text)
    except discord.HTTPException:
        log.warning("could not tell %s how their import went: %s", interaction.user.id, text.splitlines()[0])


class Directory(commands.Cog):
    """Chapters and projects of the network."""

    manage = app_commands.Group(name="directory", description="Organisers: add, edit, import and export the directory")

    def __init__(self, bot: CodeForAllBot) -> None:
        self.bot = bot
        self.directory: DirectoryService = bot.directory
        self.cards = ChapterCards(self.directory)
        self.first_pages: Rendered[tuple[str, tuple[tuple[str, str], ...], str], Page] = Rendered(self.directory)

    async def cog_load(self) -> None:
        """Register the listings behind page buttons."""
        register_source(CHAPTERS, lambda client, args, locale: chapters_listing(client.directory, args, locale))
        register_source(PROJECTS, lambda client, args, locale: projects_listing(client.directory, args, locale))
        self.bot.add_dynamic_items(PageButton)

    async def _send_listing(self, interaction: Interaction, kind: str, args: dict[str, str]) -> None:
        args = {k: v for k, v in args.items() if v}
        encode_args(kind, args)
        source = chapters_listing if kind == CHAPTERS else projects_listing
        locale = interaction.locale
        page = self.first_pages.get(
            (kind, tuple(args.items()), locale_tag(locale)),
            lambda: render_page(kind, args, source(self.directory, args, locale), 0, locale),
        )
        await interaction.response.send_message(embed=page.embed, view=page.view())

    @app_commands.command(name="chapter", description="Show a chapter of the network")
    @app_commands.describe(name="Name, short name or alias, e.g. g0v, Code for Romania, code4.ro")
    async def chapter(self, interaction: Interaction, name: Chapter) -> None:
        """Look a chapter up, forgiving typos."""
        await interaction.response.send_message(embed=self.cards.card(name, interaction.locale))

    @app_commands.command(name="project", description="Show a project of the network")
    @app_commands.describe(name="Project name")
    async def project(self, interaction: Interaction, name: Project) -> None:
        """Look a project up, forgiving typos."""
        project = name
        chapter = self.directory.chapters.get(project.chapter_key or "")
        await interaction.response.send_message(embed=project_embed(project, chapter, interaction.locale))

    @app_commands.command(name="chapters", description="List chapters, filtered by region, country or tier")
    @app_commands.describe(
        region="Region, e.g. Europe", country="Country, e.g. Romania or RO", tier="Place in the network"
    )
    @app_commands.autocomplete(region=_region_choices, country=_country_choices, tier=_tier_choices)
    async def chapters(
        self,
        interaction: Interaction,
        region: app_commands.Range[str, 1, 100] | None = None,
        country: app_commands.Range[str, 1, 100] | None = None,
        tier: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Paginated chapter list; options as the lists show them, country by name in any language or code."""
        args = {
            "r": find_region(well_formed(region)) if region else "",
            "n": find_country_code(well_formed(country)) if country else "",
            "i": find_tier(well_formed(tier)) if tier else "",
        }
        await self._send_listing(interaction, CHAPTERS, args)

    @app_commands.command(name="projects", description="Search projects by words, chapter, topic or status")
    @app_commands.describe(words="Words in the name or description, any order", chapter="Chapter", topic="Topic")
    @app_commands.autocomplete(topic=_topic_choices)
    @app_commands.choices(status=STATUS_CHOICES)
    async def projects(
        self,
        interaction: Interaction,
        words: app_commands.Range[str, 1, MAX_QUERY] | None = None,
        chapter: Chapter | None = None,
        topic: app_commands.Range[str, 1, 40] | None = None,
        status: str | None = None,
    ) -> None:
        """Paginated, ranked project search."""
        words, topic = well_formed(words or ""), well_formed(topic or "")
        require_searchable(words)
        require_searchable(topic)
        chapter_key = chapter.key if chapter else ""
        await self._send_listing(
            interaction, PROJECTS, projects_args(self.directory, words, chapter_key, topic, status or "")
        )

    @app_commands.command(name="network", description="The network at a glance, with a chart")
    async def network(self, interaction: Interaction) -> None:
        """Counts by region and tier, and a chart image."""
        overview = self.directory.overview()
        await interaction.response.defer(thinking=True)
        chart = await asyncio.to_thread(network_chart, overview, interaction.locale)
        embed = overview_embed(overview, interaction.locale)
        embed.set_image(url="attachment://network.png")
        file = discord.File(io.BytesIO(chart.png), "network.png")
        if chart.localised:
            await interaction.followup.send(embed=embed, file=file)
        else:
            await interaction.followup.send(t(interaction.locale, CHART_IN_ENGLISH), embed=embed, file=file)

    @manage.command(name="add-chapter", description="Add a chapter (organisers)")
    @app_commands.choices(tier=TIER_CHOICES, region=REGION_CHOICES)
    @organiser_only()
    async def add_chapter(
        self,
        interaction: Interaction,
        tier: str,
        region: str,
        country: app_commands.Range[str, 2, 2] | None = None,
        city: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Open the chapter form."""
        extra = {
            "tier": tier,
            "region": region,
            "country": country.upper() if country else None,
            "city": city,
        }
        right = await require_directory_right(interaction)
        await interaction.response.send_modal(chapter_form(interaction, right, None, extra))

    @manage.command(name="edit-chapter", description="Edit a chapter (organisers)")
    @app_commands.choices(tier=TIER_CHOICES, region=REGION_CHOICES)
    @organiser_only()
    async def edit_chapter(
        self,
        interaction: Interaction,
        chapter: Chapter,
        tier: str | None = None,
        region: str | None = None,
        country: app_commands.Range[str, 2, 2] | None = None,
        city: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Open the chapter form, prefilled."""
        found = chapter
        extra = {k: v for k, v in {"tier": tier, "region": region, "city": city}.items() if v}
        if country:
            extra["country"] = country.upper()
        right = await require_directory_right(interaction)
        await interaction.response.send_modal(chapter_form(interaction, right, found.key, extra))

    @manage.command(name="add-project", description="Add a project to a chapter (organisers)")
    @app_commands.choices(status=STATUS_CHOICES)
    @organiser_only()
    async def add_project(
        self,
        interaction: Interaction,
        chapter: Chapter,
        status: str = "active",
    ) -> None:
        """Open the project form."""
        found = chapter
        right = await require_directory_right(interaction)
        await interaction.response.send_modal(
            project_form(interaction, right, None, {"chapter": found.key, "status": status})
        )

    @manage.command(name="edit-project", description="Edit a project (organisers)")
    @app_commands.choices(status=STATUS_CHOICES)
    @organiser_only()
    async def edit_project(
        self,
        interaction: Interaction,
        project: Project,
        status: str | None = None,
    ) -> None:
        """Open the project form, prefilled."""
        found = project
        extra = {"status": status} if status else {}
        right = await require_directory_right(interaction)
        await interaction.response.send_modal(project_form(interaction, right, found.key, extra))

    @manage.command(name="history", description="Who changed a chapter or project, and when")
    async def history(
        self,
        interaction: Interaction,
        chapter: Chapter | None = None,
        project: Project | None = None,
    ) -> None:
        """Show recorded changes."""
        if chapter is not None and project is None:
            changes = await self.directory.history("chapter", chapter.key)
            title = chapter.name
        elif project is not None and chapter is None:
            changes = await self.directory.history("project", project.key)
            title = project.name
        else:
            raise UserError(N_("Give either a chapter or a project."))
        await interaction.response.send_message(embed=history_embed(title, changes, interaction.locale), ephemeral=True)

    @manage.command(name="remove", description="Remove a chapter or a project (home server's organisers)")
    @home_organiser_only()
    async def remove(
        self,
        interaction: Interaction,
        chapter: Chapter | None = None,
        project: Project | None = None,
    ) -> None:
        """Preview what goes, then remove it on Confirm; the history keeps the last values."""
        locale = interaction.locale
        if chapter is not None and project is None:
            found_chapter = chapter
            projects = self.directory.chapter_projects(found_chapter.key)
            embed = chapter_embed(found_chapter, projects, locale)
            preview = t(
                locale,
                "Remove the chapter **{name}** from the directory, with its projects ({count})? "
                "The history keeps their last values.",
                name=found_chapter.name,
                count=number(locale, len(projects)),
            )

            async def act(pressed: Interaction) -> str:
                removed = await self.directory.remove_chapter(found_chapter.key, **_actor(pressed))
                return t(
                    pressed.locale,
                    "Removed the chapter {name} and its projects ({count}).",
                    name=found_chapter.name,
                    count=number(pressed.locale, removed),
                )

        elif project is not None and chapter is None:
            found = project
            embed = project_embed(found, self.directory.chapters.get(found.chapter_key or ""), locale)
            preview = t(
                locale,
                "Remove the project **{name}** from the directory? The history keeps its last values.",
                name=found.name,
            )

            async def act(pressed: Interaction) -> str:
                await self.directory.remove_project(found.key, **_actor(pressed))
                return t(pressed.locale, "Removed the project {name}.", name=found.name)

        else:
            raise UserError(N_("Give either a chapter or a project."))

        async def cancel(pressed: Interaction) -> str:
            return t(pressed.locale, "Nothing was removed.")

        choices = [
            Choice(N_("Remove"), discord.ButtonStyle.danger, act),
            Choice(N_("Cancel"), discord.ButtonStyle.secondary, cancel),
        ]
        view = Decision(interaction, choices, authorise=require_home_organiser)
        await interaction.response.send_message(preview, embed=embed, view=view, ephemeral=True)

    @manage.command(
        name="proposals", description="Directory changes proposed from other servers (home server's organisers)"
    )
    @home_organiser_only()
    async def proposals(self, interaction: Interaction) -> None:
        """List the proposals waiting for a decision."""
        pending = await self.bot.app.proposals.pending()
        await interaction.response.send_message(embed=proposals_embed(pending, interaction.locale), ephemeral=True)

    @manage.command(name="review", description="Approve or reject a proposed change (home server's organisers)")
    @app_commands.describe(proposal="The proposal's number, from /directory proposals")
    @home_organiser_only()
    async def review(self, interaction: Interaction, proposal: app_commands.Range[int, 1]) -> None:
        """Show a proposal's changes with Approve and Reject."""
        proposals = self.bot.app.proposals
        found = await proposals.get(proposal)
        if found.status != "pending":
            raise already_decided(found)

        async def approve(pressed: Interaction) -> str:
            saved = await proposals.approve(found.id, **_actor(pressed))
            return t(pressed.locale, "Approved proposal #{number}: {name} is saved.", number=found.id, name=saved.name)

        async def reject(pressed: Interaction) -> str:
            await proposals.reject(found.id, **_actor(pressed))
            return t(pressed.locale, "Rejected proposal #{number}; nothing changed.", number=found.id)

        choices = [
            Choice(N_("Approve"), discord.ButtonStyle.success, approve),
            Choice(N_("Reject"), discord.ButtonStyle.danger, reject),
        ]
        view = Decision(interaction, choices, authorise=require_home_organiser)
        await interaction.response.send_message(
            embed=proposal_embed(found, interaction.locale), view=view, ephemeral=True
        )

    @manage.command(name="import", description="Import chapters and projects from a file (home server's organisers)")
    @app_commands.describe(
        file="Our YAML, brigade-information organizations.json, or a project index JSON (each may be .gz)"
    )
    @home_organiser_only()
    async def import_file(self, interaction: Interaction, file: discord.Attachment) -> None:
        """Parse and upsert an uploaded file, reporting skipped records."""
        if file.size > MAX_BYTES:
            raise UserError(
                N_("That file is {size} KiB; the limit is {limit} MiB."),
                size=file.size // 1024,
                limit=MAX_BYTES // 1024 // 1024,
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        label = file_label(file.filename)
        batch = await parse_isolated(data, file.filename, name=label)
        locale = interaction.locale
        shown = time.monotonic()

        async def progress(done: int, total: int) -> None:
            nonlocal shown
            if time.monotonic() - shown >= PROGRESS_EVERY and done < total:
                shown = time.monotonic()
                text = t(
                    locale,
                    "Importing {filename}: {done} of {total} records…",
                    filename=label,
                    done=number(locale, done),
                    total=number(locale, total),
                )
                await interaction.edit_original_response(content=text)

        report = await self.directory.import_batch(
            batch, progress=progress, source=file.filename, **_actor(interaction)
        )
        lines = [t(locale, "Imported **{filename}**: {summary}.", filename=label, summary=report.summary())]
        lines += [issue_line(issue, locale) for issue in report.issues[:10]]
        if len(report.issues) > 10:
            lines.append(t(locale, "… and {count} more.", count=len(report.issues) - 10))
        await _answer_late(interaction, truncate("\n".join(lines), 2000))

    @manage.command(name="export", description="Download the directory as YAML (organisers)")
    @organiser_only()
    async def export(self, interaction: Interaction) -> None:
        """Send the whole directory as a YAML attachment."""
        await interaction.response.defer(ephemeral=True, thinking=True)  # a large directory takes seconds
        limit = interaction.guild.filesize_limit if interaction.guild else UPLOAD_LIMIT
        export = await self.directory.export_file(limit)
        if len(export.data) > limit:
            raise UserError(
                N_(
                    "The directory is {size} MiB even compressed, over this server's upload limit of {limit} MiB: "
                    "export it on the bot's machine with `python -m bot export directory.yaml`."
                ),
                size=f"{len(export.data) / 2**20:.1f}",
                limit=limit >> 20,
            )
        text = (
            t(
                interaction.locale,
                "The directory as YAML, compressed with gzip ({size} MiB unpacked); import takes the .gz file as it is:",
                size=f"{export.unpacked_size / 2**20:.1f}",
            )
            if export.compressed
            else t(interaction.locale, "The directory as YAML:")
        )
        await interaction.followup.send(
            text, file=discord.File(io.BytesIO(export.data), export.filename), ephemeral=True
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Directory(bot))
