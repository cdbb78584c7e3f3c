"""Organisers' forms for chapters and projects: they save in the home server and propose from any other.

A form remembers the row version it was opened at and the values it showed, so a save applies only the
fields the organiser changed and refuses one that someone else changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import discord

from bot.directory.authority import Right
from bot.directory.proposals import ProposalInfo
from bot.directory.records import derive_key, project_key
from bot.directory.service import ChapterInfo, ProjectInfo
from bot.i18n import N_, Localeish, t
from bot.text import truncate
from bot.types import Interaction
from bot.ui.base import Authorise
from bot.ui.checks import HOME_ONLY, Refused, require_directory_right
from bot.ui.directory import chapter_embed, project_embed
from bot.ui.forms import Form, FormField

NAME = FormField("name", N_("Name"), 200, required=True)
DESCRIPTION = FormField("description", N_("Description"), 4000, paragraph=True)
WEBSITE = FormField("website", N_("Website"), 500)
ALIASES = FormField("aliases", N_("Other names (comma separated)"), 500)
FEED = FormField("feed_url", N_("Blog feed (RSS/Atom URL)"), 500)
TOPICS = FormField("topics", N_("Topics (comma separated)"), 300)
CODE = FormField("code_url", N_("Source code URL"), 500)

CHAPTER_FIELDS = (NAME, ALIASES, WEBSITE, FEED, DESCRIPTION)
PROJECT_FIELDS = (NAME, DESCRIPTION, TOPICS, WEBSITE, CODE)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _chapter_texts(chapter: ChapterInfo | None) -> dict[str, str]:
    if chapter is None:
        return {}
    return {
        "name": chapter.name,
        "aliases": ", ".join(chapter.aliases),
        "website": chapter.website or "",
        "feed_url": chapter.feed_url or "",
        "description": chapter.description or "",
    }


def _chapter_values(typed: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": typed.get("name", ""),
        "aliases": _split(typed.get("aliases", "")),
        "website": typed.get("website") or None,
        "feed_url": typed.get("feed_url") or None,
        "description": typed.get("description") or None,
    }


def _project_texts(project: ProjectInfo | None) -> dict[str, str]:
    if project is None:
        return {}
    return {
        "name": project.name,
        "description": project.description or "",
        "topics": ", ".join(project.topics),
        "website": project.links.get("website", ""),
        "code_url": project.code_url or "",
    }


def _project_values(typed: Mapping[str, str], links: Mapping[str, str]) -> dict[str, Any]:
    merged = {name: url for name, url in links.items() if name != "website"}
    if typed.get("website"):
        merged["website"] = typed["website"]
    return {
        "name": typed.get("name", ""),
        "description": typed.get("description") or None,
        "topics": _split(typed.get("topics", "")),
        "links": merged,
        "code_url": typed.get("code_url") or None,
    }


def _authorise(right: Right) -> Authorise:
    """Re-check on submit that the member still holds the right the form was opened with."""

    async def authorise(interaction: Interaction) -> None:
        if await require_directory_right(interaction) is not right:
            raise Refused(HOME_ONLY)

    return authorise


def _actor(interaction: Interaction) -> dict[str, Any]:
    return {"actor_id": interaction.user.id, "actor_name": str(interaction.user)}


async def _propose(
    interaction: Interaction,
    entity: str,
    key: str | None,
    values: Mapping[str, Any],
    version: int | None,
    shown: Mapping[str, Any],
) -> None:
    assert interaction.guild is not None
    proposal = await interaction.client.app.proposals.propose(
        entity,
        key,
        values,
        version=version,
        shown=shown,
        guild_id=interaction.guild.id,
        guild_name=interaction.guild.name,
        proposer_id=interaction.user.id,
        proposer_name=str(interaction.user),
    )
    await interaction.response.send_message(
        t(
            interaction.locale,
            "Sent to the network's organisers as proposal #{number}: they will approve or reject it.",
            number=proposal.id,
        ),
        ephemeral=True,
    )


def chapter_form(opened: Interaction, right: Right, key: str | None, extra: Mapping[str, Any]) -> Form:
    """A chapter's texts; structured fields (tier, region, country, city) come from the command's options."""
    directory = opened.client.directory
    chapter = directory.chapters.get(key) if key else None
    locale = opened.locale
    title = t(locale, "Edit {name}", name=chapter.name) if chapter else t(locale, "New chapter")
    texts = _chapter_texts(chapter)
    shown = {**_chapter_values(texts), **{name: getattr(chapter, name) for name in extra}} if chapter else {}
    version = chapter.version if chapter else None

    async def save(interaction: Interaction, typed: dict[str, str]) -> None:
        values = {**_chapter_values(typed), **extra}
        if key is None:
            values["key"] = derive_key(typed["name"])
        if right is Right.PROPOSE:
            await _propose(interaction, "chapter", key, values, version, shown)
            return
        saved = await directory.edit_chapter(
            key, values, version=version, shown=shown if chapter else None, **_actor(interaction)
        )
        embed = chapter_embed(saved, directory.chapter_projects(saved.key), interaction.locale)
        await interaction.response.send_message(t(interaction.locale, "Saved."), embed=embed, ephemeral=True)

    fields = [(field, texts.get(field.custom_id) or None) for field in CHAPTER_FIELDS]
    return Form(opened, title, fields, save, authorise=_authorise(right))


def project_form(opened: Interaction, right: Right, key: str | None, extra: Mapping[str, Any]) -> Form:
    """A project's texts; its chapter and status come from the command's options."""
    directory = opened.client.directory
    project = directory.projects.get(key) if key else None
    locale = opened.locale
    title = t(locale, "Edit {name}", name=project.name) if project else t(locale, "New project")
    texts = _project_texts(project)
    links = dict(project.links) if project else {}
    shown: dict[str, Any] = {}
    if project is not None:
        shown = {**_project_values(texts, links), **{name: getattr(project, name) for name in extra}}
    version = project.version if project else None

    async def save(interaction: Interaction, typed: dict[str, str]) -> None:
        values = {**_project_values(typed, links), **extra}
        if key is None:
            values["key"] = project_key(values["chapter"], typed["name"])
        if right is Right.PROPOSE:
            await _propose(interaction, "project", key, values, version, shown)
            return
        saved = await directory.edit_project(
            key, values, version=version, shown=shown if project else None, **_actor(interaction)
        )
        embed = project_embed(saved, directory.chapters.get(saved.chapter_key or ""), interaction.locale)
        await interaction.response.send_message(t(interaction.locale, "Saved."), embed=embed, ephemeral=True)

    fields = [(field, texts.get(field.custom_id) or None) for field in PROJECT_FIELDS]
    return Form(opened, title, fields, save, authorise=_authorise(right))


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return "" if value is None else str(value)


def proposal_target(proposal: ProposalInfo, locale: Localeish) -> str:
    """What a proposal changes, in a few words."""
    name = str(proposal.values.get("name") or proposal.entity_key or "")
    if proposal.entity_key is None:
        what = N_("new chapter {name}") if proposal.entity == "chapter" else N_("new project {name}")
    else:
        what = N_("chapter {name}") if proposal.entity == "chapter" else N_("project {name}")
    return t(locale, what, name=name)


def proposals_embed(proposals: Sequence[ProposalInfo], locale: Localeish) -> discord.Embed:
    """Pending proposals, one line each."""
    lines = [
        t(
            locale,
            "#{number} · {target} · by {proposer} ({server})",
            number=p.id,
            target=proposal_target(p, locale),
            proposer=p.proposer_name,
            server=p.guild_name,
        )
        for p in proposals
    ]
    return discord.Embed(
        title=t(locale, "Proposed directory changes"),
        description=truncate("\n".join(lines), 4096) or t(locale, "No proposals are waiting."),
    )


def proposal_embed(proposal: ProposalInfo, locale: Localeish) -> discord.Embed:
    """One proposal: each changed field, as the proposer's form showed it and as they typed it."""
    embed = discord.Embed(
        title=truncate(
            t(locale, "Proposal #{number}: {target}", number=proposal.id, target=proposal_target(proposal, locale)), 256
        ),
        description=t(
            locale, "By {proposer} from {server}.", proposer=proposal.proposer_name, server=proposal.guild_name
        ),
    )
    for name, value in list(proposal.changed().items())[:25]:
        before = _text(proposal.shown.get(name)) or "—"
        embed.add_field(
            name=name,
            value=truncate(f"{truncate(before, 480)} → {truncate(_text(value) or '—', 480)}", 1024),
            inline=False,
        )
    return embed
