"""Directory commands: chapters, projects, the network overview, and organisers' edits."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import organiser_only
from bot.errors import UserError
from bot.i18n import N_, Localeish, t
from bot.services import directory_io
from bot.services.charts import bar_chart
from bot.services.directory import STATUSES, TIERS, DirectoryService
from bot.text import truncate
from bot.tree import report_error
from bot.ui.directory import (
    chapter_embed,
    chapter_line,
    history_embed,
    overview_embed,
    project_embed,
    project_line,
    tier_label,
)
from bot.ui.pages import LazyLines, Listing, PageButton, encode_args, page_view, register_source

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_QUERY = 60

TIER_CHOICES = [app_commands.Choice(name=tier.capitalize(), value=tier) for tier in TIERS]
STATUS_CHOICES = [app_commands.Choice(name=s.capitalize(), value=s) for s in STATUSES]
REGION_CHOICES = [app_commands.Choice(name=r, value=r) for r in directory_io.REGIONS]


def _directory(client: Any) -> DirectoryService:
    directory: DirectoryService = client.directory
    return directory


def chapters_listing(client: Any, args: dict[str, str], locale: Localeish) -> Listing:
    """Chapters filtered by region, country and tier."""
    directory = _directory(client)
    found = directory.list_chapters(region=args.get("r"), country=args.get("n"), tier=args.get("i"))
    region, tier = args.get("r"), args.get("i")
    filters = ", ".join(
        v for v in (t(locale, region) if region else "", args.get("n"), tier_label(tier, locale) if tier else "") if v
    )
    return Listing(
        t(locale, "Chapters ({filters})", filters=filters) if filters else t(locale, "Chapters"),
        LazyLines(found, lambda chapter: chapter_line(chapter, locale)),
        t(locale, "No chapter matches."),
    )


def projects_listing(client: Any, args: dict[str, str], locale: Localeish) -> Listing:
    """Projects matching words and filters."""
    directory = _directory(client)
    found = directory.search_projects(
        args.get("w", ""), chapter=args.get("c"), topic=args.get("t"), status=args.get("s")
    )
    lines = LazyLines(found, lambda p: project_line(p, directory.chapters.get(p.chapter_key or ""), locale))
    chapter = directory.chapters.get(args.get("c", ""))
    status = args.get("s")
    what = " · ".join(
        v
        for v in (
            args.get("w"),
            chapter.name if chapter else "",
            args.get("t"),
            t(locale, status.capitalize()) if status else "",
        )
        if v
    )
    return Listing(
        t(locale, "Projects: {filters}", filters=what) if what else t(locale, "Projects"),
        lines,
        t(locale, "No project matches."),
    )


async def _chapter_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=truncate(c.name, 100), value=c.key)
        for c in _directory(interaction.client).complete_chapters(current[:MAX_QUERY])
    ]


async def _project_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=truncate(p.name, 100), value=p.key[:100])
        for p in _directory(interaction.client).complete_projects(current[:MAX_QUERY])
    ]


async def _topic_choices(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=topic, value=topic)
        for topic in _directory(interaction.client).complete_topics(current)
    ]


def _actor(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    return {"actor_id": interaction.user.id, "actor_name": str(interaction.user)}


def _issue_line(issue: directory_io.ImportIssue, locale: Localeish) -> str:
    if issue.index < 0:
        return f"• {issue}"
    if issue.key:
        return t(
            locale, "• record {number} ({key}): {reason}", number=issue.index + 1, key=issue.key, reason=issue.reason
        )
    return t(locale, "• record {number}: {reason}", number=issue.index + 1, reason=issue.reason)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class ChapterModal(discord.ui.Modal):
    """Organisers type a chapter's texts; structured fields come from the command's options."""

    def __init__(self, directory: DirectoryService, key: str | None, extra: dict[str, Any], locale: Localeish) -> None:
        chapter = directory.chapters.get(key) if key else None
        title = t(locale, "Edit {name}", name=chapter.name) if chapter else t(locale, "New chapter")
        super().__init__(title=truncate(title, 45), custom_id="dir:chapter")
        self.directory, self.key, self.extra = directory, key, extra
        self.name: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="name", label=t(locale, "Name"), max_length=200, default=chapter.name if chapter else None
        )
        self.aliases: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="aliases",
            label=t(locale, "Other names (comma separated)"),
            required=False,
            max_length=500,
            default=", ".join(chapter.aliases) if chapter else None,
        )
        self.website: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="website",
            label=t(locale, "Website"),
            required=False,
            max_length=500,
            default=chapter.website if chapter else None,
        )
        self.feed_url: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="feed_url",
            label=t(locale, "Blog feed (RSS/Atom URL)"),
            required=False,
            max_length=500,
            default=chapter.feed_url if chapter else None,
        )
        self.description: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="description",
            label=t(locale, "Description"),
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=4000,
            default=chapter.description if chapter else None,
        )
        for item in (self.name, self.aliases, self.website, self.feed_url, self.description):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Validate, store with history, and show the result."""
        values: dict[str, Any] = {
            "name": self.name.value,
            "aliases": _split(self.aliases.value),
            "website": self.website.value or None,
            "feed_url": self.feed_url.value or None,
            "description": self.description.value or None,
            **self.extra,
        }
        if self.key is None:
            values["key"] = directory_io.slugify(self.name.value)
        chapter = await self.directory.edit_chapter(self.key, values, **_actor(interaction))
        embed = chapter_embed(chapter, self.directory.chapter_projects(chapter.key), interaction.locale)
        await interaction.response.send_message(t(interaction.locale, "Saved."), embed=embed, ephemeral=True)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Route to the bot's one error reporter."""
        await report_error(interaction, error, "chapter form")


class ProjectModal(discord.ui.Modal):
    """Organisers type a project's texts."""

    def __init__(self, directory: DirectoryService, key: str | None, extra: dict[str, Any], locale: Localeish) -> None:
        project = directory.projects.get(key) if key else None
        title = t(locale, "Edit {name}", name=project.name) if project else t(locale, "New project")
        super().__init__(title=truncate(title, 45), custom_id="dir:project")
        self.directory, self.key, self.extra = directory, key, extra
        self.name: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="name", label=t(locale, "Name"), max_length=200, default=project.name if project else None
        )
        self.description: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="description",
            label=t(locale, "Description"),
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=4000,
            default=project.description if project else None,
        )
        self.topics: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="topics",
            label=t(locale, "Topics (comma separated)"),
            required=False,
            max_length=300,
            default=", ".join(project.topics) if project else None,
        )
        self.website: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="website",
            label=t(locale, "Website"),
            required=False,
            max_length=500,
            default=project.links.get("website") if project else None,
        )
        self.code_url: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="code_url",
            label=t(locale, "Source code URL"),
            required=False,
            max_length=500,
            default=project.code_url if project else None,
        )
        for item in (self.name, self.description, self.topics, self.website, self.code_url):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Validate, store with history, and show the result."""
        current = self.directory.projects.get(self.key) if self.key else None
        links = dict(current.links) if current else {}
        links.pop("website", None)
        if self.website.value:
            links["website"] = self.website.value
        values: dict[str, Any] = {
            "name": self.name.value,
            "description": self.description.value or None,
            "topics": _split(self.topics.value),
            "links": links,
            "code_url": self.code_url.value or None,
            **self.extra,
        }
        if self.key is None:
            values["key"] = f"{values['chapter']}/{directory_io.slugify(self.name.value)}"
        project = await self.directory.edit_project(self.key, values, **_actor(interaction))
        chapter = self.directory.chapters.get(project.chapter_key or "")
        embed = project_embed(project, chapter, interaction.locale)
        await interaction.response.send_message(t(interaction.locale, "Saved."), embed=embed, ephemeral=True)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Route to the bot's one error reporter."""
        await report_error(interaction, error, "project form")


class Directory(commands.Cog):
    """Chapters and projects of the network."""

    manage = app_commands.Group(name="directory", description="Organisers: add, edit, import and export the directory")

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.directory: DirectoryService = bot.directory

    async def cog_load(self) -> None:
        """Register the listings behind page buttons."""
        register_source("chapters", chapters_listing)
        register_source("projects", projects_listing)
        self.bot.add_dynamic_items(PageButton)

    async def _send_listing(self, interaction: discord.Interaction[Any], kind: str, args: dict[str, str]) -> None:
        args = {k: v for k, v in args.items() if v}
        encode_args(kind, args)
        source = chapters_listing if kind == "chapters" else projects_listing
        listing = source(self.bot, args, interaction.locale)
        embed, view = page_view(kind, args, listing, 0, interaction.locale)
        await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="chapter", description="Show a chapter of the network")
    @app_commands.describe(name="Name, short name or alias, e.g. g0v, Code for Romania, code4.ro")
    @app_commands.autocomplete(name=_chapter_choices)
    async def chapter(self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 100]) -> None:
        """Look a chapter up, forgiving typos."""
        chapter = self.directory.find_chapter(name)
        embed = chapter_embed(chapter, self.directory.chapter_projects(chapter.key), interaction.locale)
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="project", description="Show a project of the network")
    @app_commands.describe(name="Project name")
    @app_commands.autocomplete(name=_project_choices)
    async def project(self, interaction: discord.Interaction[Any], name: app_commands.Range[str, 1, 200]) -> None:
        """Look a project up, forgiving typos."""
        project = self.directory.projects.get(name) or self.directory.find_project(name)
        chapter = self.directory.chapters.get(project.chapter_key or "")
        await interaction.response.send_message(embed=project_embed(project, chapter, interaction.locale))

    @app_commands.command(name="chapters", description="List chapters, filtered by region, country or tier")
    @app_commands.describe(region="Region", country="Country code, e.g. RO", tier="Place in the network")
    @app_commands.choices(region=REGION_CHOICES, tier=TIER_CHOICES)
    async def chapters(
        self,
        interaction: discord.Interaction[Any],
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
        interaction: discord.Interaction[Any],
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
    async def network(self, interaction: discord.Interaction[Any]) -> None:
        """Counts by region and tier, and a chart image."""
        overview = self.directory.overview()
        await interaction.response.defer(thinking=True)
        labels = {t(interaction.locale, region): count for region, count in overview.by_region.items()}
        png = await asyncio.to_thread(bar_chart, t(interaction.locale, "Chapters by region"), labels)
        embed = overview_embed(overview, interaction.locale)
        embed.set_image(url="attachment://network.png")
        await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(png), "network.png"))

    @manage.command(name="add-chapter", description="Add a chapter (organisers)")
    @app_commands.choices(tier=TIER_CHOICES, region=REGION_CHOICES)
    @organiser_only()
    async def add_chapter(
        self,
        interaction: discord.Interaction[Any],
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
        await interaction.response.send_modal(ChapterModal(self.directory, None, extra, interaction.locale))

    @manage.command(name="edit-chapter", description="Edit a chapter (organisers)")
    @app_commands.autocomplete(chapter=_chapter_choices)
    @app_commands.choices(tier=TIER_CHOICES, region=REGION_CHOICES)
    @organiser_only()
    async def edit_chapter(
        self,
        interaction: discord.Interaction[Any],
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
        await interaction.response.send_modal(ChapterModal(self.directory, found.key, extra, interaction.locale))

    @manage.command(name="add-project", description="Add a project to a chapter (organisers)")
    @app_commands.autocomplete(chapter=_chapter_choices)
    @app_commands.choices(status=STATUS_CHOICES)
    @organiser_only()
    async def add_project(
        self,
        interaction: discord.Interaction[Any],
        chapter: app_commands.Range[str, 1, 100],
        status: str = "active",
    ) -> None:
        """Open the project form."""
        found = self.directory.find_chapter(chapter)
        await interaction.response.send_modal(
            ProjectModal(self.directory, None, {"chapter": found.key, "status": status}, interaction.locale)
        )

    @manage.command(name="edit-project", description="Edit a project (organisers)")
    @app_commands.autocomplete(project=_project_choices)
    @app_commands.choices(status=STATUS_CHOICES)
    @organiser_only()
    async def edit_project(
        self,
        interaction: discord.Interaction[Any],
        project: app_commands.Range[str, 1, 200],
        status: str | None = None,
    ) -> None:
        """Open the project form, prefilled."""
        found = self.directory.projects.get(project) or self.directory.find_project(project)
        extra = {"status": status} if status else {}
        await interaction.response.send_modal(ProjectModal(self.directory, found.key, extra, interaction.locale))

    @manage.command(name="history", description="Who changed a chapter or project, and when")
    @app_commands.autocomplete(chapter=_chapter_choices, project=_project_choices)
    async def history(
        self,
        interaction: discord.Interaction[Any],
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
    async def import_file(self, interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
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
        report = await self.directory.import_batch(batch, **_actor(interaction))
        locale = interaction.locale
        lines = [t(locale, "Imported **{filename}**: {summary}.", filename=file.filename, summary=report.summary())]
        lines += [_issue_line(issue, locale) for issue in report.issues[:10]]
        if len(report.issues) > 10:
            lines.append(t(locale, "… and {count} more.", count=len(report.issues) - 10))
        await interaction.followup.send(truncate("\n".join(lines), 2000), ephemeral=True)

    @manage.command(name="export", description="Download the directory as YAML (organisers)")
    @organiser_only()
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        """Send the whole directory as a YAML attachment."""
        text = directory_io.dump_yaml(await self.directory.export_batch())
        await interaction.response.send_message(
            t(interaction.locale, "The directory as YAML:"),
            file=discord.File(io.BytesIO(text.encode()), "directory.yaml"),
            ephemeral=True,
        )


async def setup(bot: commands.Bot) -> None:
    """Load the cog."""
    await bot.add_cog(Directory(bot))
