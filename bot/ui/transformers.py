"""Slash command options that arrive as directory records: autocompleted, resolved forgivingly."""

from __future__ import annotations

from discord import AppCommandOptionType, app_commands

from bot.directory.service import ChapterInfo, ProjectInfo
from bot.text import truncate, well_formed
from bot.types import Interaction

CHOICE_LIMIT = 100  # Discord's limit on a choice's name and value, and on what this option accepts
QUERY_LIMIT = 60  # autocomplete looks at most this far into what is typed


class _RecordOption(app_commands.Transformer):
    """A text option, at most as long as a choice value, that names a directory record."""

    @property
    def type(self) -> AppCommandOptionType:
        """Typed as text."""
        return AppCommandOptionType.string

    @property
    def max_value(self) -> int:
        """At most as long as a choice value."""
        return CHOICE_LIMIT


class ChapterTransformer(_RecordOption):
    """A chapter by name, short name, alias or a clear typo."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        """Up to 25 chapters for what is typed so far."""
        return [
            app_commands.Choice(name=truncate(chapter.name, CHOICE_LIMIT), value=chapter.key)
            for chapter in interaction.client.directory.complete_chapters(well_formed(value[:QUERY_LIMIT]))
        ]

    async def transform(self, interaction: Interaction, value: str, /) -> ChapterInfo:  # type: ignore[override]
        """The chapter meant, or NotFound with suggestions."""
        return interaction.client.directory.find_chapter(well_formed(value))


class ProjectTransformer(_RecordOption):
    """A project by key or name, forgiving typos."""

    async def autocomplete(  # type: ignore[override]
        self, interaction: Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        """Up to 25 projects for what is typed so far."""
        return [
            # A key longer than a choice value falls back to the name, which resolves as well.
            app_commands.Choice(
                name=truncate(project.name, CHOICE_LIMIT),
                value=project.key if len(project.key) <= CHOICE_LIMIT else project.name[:CHOICE_LIMIT],
            )
            for project in interaction.client.directory.complete_projects(well_formed(value[:QUERY_LIMIT]))
        ]

    async def transform(self, interaction: Interaction, value: str, /) -> ProjectInfo:  # type: ignore[override]
        """The project meant, or NotFound with suggestions."""
        directory, value = interaction.client.directory, well_formed(value)
        return directory.projects.get(value) or directory.find_project(value)


Chapter = app_commands.Transform[ChapterInfo, ChapterTransformer]
Project = app_commands.Transform[ProjectInfo, ProjectTransformer]
