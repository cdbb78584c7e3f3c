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

from bot.directory import formats as directory_io
from bot.directory.service import STATUSES, TIERS, DirectoryService
from bot.errors import UserError
from bot.i18n import N_, Localeish, number, t
from bot.text import truncate
from bot.types import Interaction
from bot.ui.checks import organiser_only
from bot.ui.directory import (
    chapter_embed,
    chapters_listing,
    history_embed,
    issue_line,
    network_chart,
    overview_embed,
    project_embed,
    projects_listing,
)
from bot.ui.forms import Form, FormField
from bot.ui.pages import PageButton, encode_args, page_view, register_source

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_QUERY = 60
PROGRESS_EVERY = 2.0  # seconds between progress updates of a long import

TIER_CHOICES = [app_commands.Choice(name=tier.capitalize(), value=tier) for tier in TIERS]
STATUS_CHOICES = [app_commands.Choice(name=s.capitalize(), value=s) for s in STATUSES]
REGION_CHOICES = [app_commands.Choice(name=r, value=r) for r in directory_io.REGIONS]


def _directory(client: CodeForAllBot) -> DirectoryService:
    return client.directory


async def _chapter_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=truncate(c.name, 100), value=c.key)
        for c in _directory(interaction.client).complete_chapters(current[:MAX_QUERY])
    ]


async def _project_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [
        # Discord caps choice values at 100 characters; a longer key falls back to the name, which also resolves.
        app_commands.Choice(name=truncate(p.name, 100), value=p.key if len(p.key) <= 100 else p.name[:100])
        for p in _directory(interaction.client).complete_projects(current[:MAX_QUERY])
    ]


async def _topic_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=truncate(topic, 100), value=topic[:100])
        for topic in _directory(interaction.client).complete_topics(current)
    ]


def _actor(interaction: Interaction) -> dict[str, Any]:
    return {"actor_id": interaction.user.id, "actor_name": str(interaction.user)}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


NAME = FormField("name", N_("Name"), 200, required=True)
DESCRIPTION = FormField("description", N_("Description"), 4000, paragraph=True)
WEBSITE = FormField("website", N_("Website"), 500)
ALIASES = FormField("aliases", N_("Other names (comma separated)"), 500)
FEED = FormField("feed_url", N_("Blog feed (RSS/Atom URL)"), 500)
TOPICS = FormField("topics", N_("Topics (comma separated)"), 300)
CODE = FormField("code_url", N_("Source code URL"), 500)


def chapter_form(directory: DirectoryService, key: str | None, extra: dict[str, Any], locale: Localeish) -> Form:
    """Organisers type a chapter's texts; structured fields come from the command's options."""
    chapter = directory.chapters.get(key) if key else None
    title = t(locale, "Edit {name}", name=chapter.name) if chapter else t(locale, "New chapter")
    fields = [
        (NAME, chapter.name if chapter else None),
        (ALIASES, ", ".join(chapter.aliases) if chapter else None),
        (WEBSITE, chapter.website if chapter else None),
        (FEED, chapter.feed_url if chapter else None),
        (DESCRIPTION, chapter.description if chapter else None),
    ]

    async def save(interaction: Interaction, typed: dict[str, str]) -> None:
        # A save may wait for an import's chunk to commit: answer within Discord's 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        values: dict[str, Any] = {
            "name": typed["name"],
            "aliases": _split(typed["aliases"]),
            "website": typed["website"] or None,
            "feed_url": typed["feed_url"] or None,
            "description": typed["description"] or None,
            **extra,
        }
        if key is None:
            values["key"] = directory_io.slugify(typed["name"])
        saved = await directory.edit_chapter(key, values, **_actor(interaction))
        embed = chapter_embed(saved, directory.chapter_projects(saved.key), interaction.locale)
        await interaction.followup.send(t(interaction.locale, "Saved."), embed=embed, ephemeral=True)

    return Form(title, fields, locale, save)


def project_form(directory: DirectoryService, key: str | None, extra: dict[str, Any], locale: Localeish) -> Form:
    """Organisers type a project's texts."""
    project = directory.projects.get(key) if key else None
    title = t(locale, "Edit {name}", name=project.name) if project else t(locale, "New project")
    fields = [
        (NAME, project.name if project else None),
        (DESCRIPTION, project.description if project else None),
        (TOPICS, ", ".join(project.topics) if project else None),
        (WEBSITE, project.links.get("website") if project else None),
        (CODE, project.code_url if project else None),
    ]

    async def save(interaction: Interaction, typed: dict[str, str]) -> None:
        # A save may wait for an import's chunk to commit: answer within Discord's 3 s first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        links = {name: url for name, url in (project.links if project else {}).items() if name != "website"}
        if typed["website"]:
            links["website"] = typed["website"]
        values: dict[str, Any] = {
            "name": typed["name"],
            "description": typed["description"] or None,
            "topics": _split(typed["topics"]),
            "links": links,
            "code_url": typed["code_url"] or None,
            **extra,
        }
        if key is None:
            values["key"] = f"{values['chapter']}/{directory_io.slugify(typed['name'])}"
        saved = await directory.edit_project(key, values, **_actor(interaction))
        embed = project_embed(saved, directory.chapters.get(saved.chapter_key or ""), interaction.locale)
        await interaction.followup.send(t(interaction.locale, "Saved."), embed=embed, ephemeral=True)

    return Form(title, fields, locale, save)


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

    async def cog_load(self) -> None:
        """Register the listings behind page buttons."""
        register_source("chapters", lambda client, args, locale: chapters_listing(client.directory, args, locale))
        register_source("projects", lambda client, args, locale: projects_listing(client.directory, args, locale))
        self.bot.add_dynamic_items(PageButton)

    async def _send_listing(self, interaction: Interaction, kind: str, args: dict[str, str]) -> None:
        args = {k: v for k, v in args.items() if v}
        encode_args(kind, args)
        source = chapters_listing if kind == "chapters" else projects_listing
        listing = source(self.directory, args, interaction.locale)
        embed, view = page_view(kind, args, listing, 0, interaction.locale)
        await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="chapter", description="Show a chapter of the network")
    @app_commands.describe(name="Name, short name or alias, e.g. g0v, Code for Romania, code4.ro")
    @app_commands.autocomplete(name=_chapter_choices)
    async def chapter(self, interaction: Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        """Look a chapter up, forgiving typos."""
        chapter = self.directory.find_chapter(name)
        embed = chapter_embed(chapter, self.directory.chapter_projects(chapter.key), interaction.locale)
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="project", description="Show a project of the network")
    @app_commands.describe(name="Project name")
    @app_commands.autocomplete(name=_project_choices)
    async def project(self, interaction: Interaction, name: app_commands.Range[str, 1, 200]) -> None:
        """Look a project up, forgiving typos."""
        project = self.directory.projects.get(name) or self.directory.find_project(name)
        chapter = self.directory.chapters.get(project.chapter_key or "")
        await interaction.response.send_message(embed=project_embed(project, chapter, interaction.locale))

    @app_commands.command(name="chapters", description="List chapters, filtered by region, country or tier")
    @app_commands.describe(region="Region", country="Country code, e.g. RO", tier="Place in the network")
    @app_commands.choices(region=REGION_CHOICES, tier=TIER_CHOICES)
    async def chapters(
        self,
        interaction: Interaction,
        region: str | None = None,
        country: app_commands.Range[str, 2, 2] | None = None,
        tier: str | None = None,
    ) -> None:
        """Paginated chapter list."""
        if country and not country.isalpha():
            raise UserError(N_("Country must be a two-letter code such as RO or TW."))
        await self._send_listing(
            interaction, "chapters", {"r": region or "", "n": (country or "").upper(), "i": tier or ""}
        )

    @app_commands.command(name="projects", description="Search projects by words, chapter, topic or status")
    @app_commands.describe(words="Words in the name or description, any order", chapter="Chapter", topic="Topic")
    @app_commands.autocomplete(chapter=_chapter_choices, topic=_topic_choices)
    @app_commands.choices(status=STATUS_CHOICES)
    async def projects(
        self,
        interaction: Interaction,
        words: app_commands.Range[str, 1, MAX_QUERY] | None = None,
        chapter: app_commands.Range[str, 1, 100] | None = None,
        topic: app_commands.Range[str, 1, 40] | None = None,
        status: str | None = None,
    ) -> None:
        """Paginated, ranked project search."""
        chapter_key = self.directory.find_chapter(chapter).key if chapter else ""
        args = {"w": words or "", "c": chapter_key, "t": topic or "", "s": status or ""}
        await self._send_listing(interaction, "projects", args)

    @app_commands.command(name="network", description="The network at a glance, with a chart")
    async def network(self, interaction: Interaction) -> None:
        """Counts by region and tier, and a chart image."""
        overview = self.directory.overview()
        await interaction.response.defer(thinking=True)
        png = await asyncio.to_thread(network_chart, overview, interaction.locale)
        embed = overview_embed(overview, interaction.locale)
        embed.set_image(url="attachment://network.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(png), "network.png"))

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
        await interaction.response.send_modal(chapter_form(self.directory, None, extra, interaction.locale))

    @manage.command(name="edit-chapter", description="Edit a chapter (organisers)")
    @app_commands.autocomplete(chapter=_chapter_choices)
    @app_commands.choices(tier=TIER_CHOICES, region=REGION_CHOICES)
    @organiser_only()
    async def edit_chapter(
        self,
        interaction: Interaction,
        chapter: app_commands.Range[str, 1, 100],
        tier: str | None = None,
        region: str | None = None,
        country: app_commands.Range[str, 2, 2] | None = None,
        city: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Open the chapter form, prefilled."""
        found = self.directory.find_chapter(chapter)
        extra = {k: v for k, v in {"tier": tier, "region": region, "city": city}.items() if v}
        if country:
            extra["country"] = country.upper()
        await interaction.response.send_modal(chapter_form(self.directory, found.key, extra, interaction.locale))

    @manage.command(name="add-project", description="Add a project to a chapter (organisers)")
    @app_commands.autocomplete(chapter=_chapter_choices)
    @app_commands.choices(status=STATUS_CHOICES)
    @organiser_only()
    async def add_project(
        self,
        interaction: Interaction,
        chapter: app_commands.Range[str, 1, 100],
        status: str = "active",
    ) -> None:
        """Open the project form."""
        found = self.directory.find_chapter(chapter)
        await interaction.response.send_modal(
            project_form(self.directory, None, {"chapter": found.key, "status": status}, interaction.locale)
        )

    @manage.command(name="edit-project", description="Edit a project (organisers)")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.choices(status=STATUS_CHOICES)
    @organiser_only()
    async def edit_project(
        self,
        interaction: Interaction,
        project: app_commands.Range[str, 1, 200],
        status: str | None = None,
    ) -> None:
        """Open the project form, prefilled."""
        found = self.directory.projects.get(project) or self.directory.find_project(project)
        extra = {"status": status} if status else {}
        await interaction.response.send_modal(project_form(self.directory, found.key, extra, interaction.locale))

    @manage.command(name="history", description="Who changed a chapter or project, and when")
    @app_commands.autocomplete(chapter=_chapter_choices, project=_project_choices)
    async def history(
        self,
        interaction: Interaction,
        chapter: app_commands.Range[str, 1, 100] | None = None,
        project: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """Show recorded changes."""
        if bool(chapter) == bool(project):
            raise UserError(N_("Give either a chapter or a project."))
        if chapter:
            found_chapter = self.directory.find_chapter(chapter)
            changes = await self.directory.history("chapter", found_chapter.key)
            title = found_chapter.name
        else:
            found_project = self.directory.projects.get(project or "") or self.directory.find_project(project or "")
            changes = await self.directory.history("project", found_project.key)
            title = found_project.name
        await interaction.response.send_message(embed=history_embed(title, changes, interaction.locale), ephemeral=True)

    @manage.command(name="import", description="Import chapters and projects from a file (organisers)")
    @app_commands.describe(file="Our YAML, brigade-information organizations.json, or a project index JSON")
    @organiser_only()
    async def import_file(self, interaction: Interaction, file: discord.Attachment) -> None:
        """Parse and upsert an uploaded file, reporting skipped records."""
        if file.size > MAX_IMPORT_BYTES:
            raise UserError(
                N_("That file is {size} KiB; the limit is {limit} MiB."),
                size=file.size // 1024,
                limit=MAX_IMPORT_BYTES // 1024 // 1024,
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        batch = await asyncio.to_thread(directory_io.parse_bytes, data, file.filename)
        locale = interaction.locale
        shown = time.monotonic()

        async def progress(done: int, total: int) -> None:
            nonlocal shown
            if time.monotonic() - shown >= PROGRESS_EVERY and done < total:
                shown = time.monotonic()
                text = t(
                    locale,
                    "Importing {filename}: {done} of {total} records…",
                    filename=file.filename,
                    done=number(locale, done),
                    total=number(locale, total),
                )
                await interaction.edit_original_response(content=text)

        report = await self.directory.import_batch(
            batch, progress=progress, source=file.filename, **_actor(interaction)
        )
        lines = [t(locale, "Imported **{filename}**: {summary}.", filename=file.filename, summary=report.summary())]
        lines += [issue_line(issue, locale) for issue in report.issues[:10]]
        if len(report.issues) > 10:
            lines.append(t(locale, "… and {count} more.", count=len(report.issues) - 10))
        await _answer_late(interaction, truncate("\n".join(lines), 2000))

    @manage.command(name="export", description="Download the directory as YAML (organisers)")
    @organiser_only()
    async def export(self, interaction: Interaction) -> None:
        """Send the whole directory as a YAML attachment."""
        await interaction.response.defer(ephemeral=True, thinking=True)  # a large directory takes seconds
        text = await self.directory.export_yaml()
        await interaction.followup.send(
            t(interaction.locale, "The directory as YAML:"),
            file=discord.File(io.BytesIO(text.encode()), "directory.yaml"),
            ephemeral=True,
        )


async def setup(bot: CodeForAllBot) -> None:
    """Load the cog."""
    await bot.add_cog(Directory(bot))
