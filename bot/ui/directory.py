"""Embeds for the directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.services.directory import ChangeInfo, ChapterInfo, Overview, ProjectInfo
from bot.text import flag, truncate

TIER_COLOURS = {"governing": 0x2B6CB0, "affiliate": 0x38A169, "member": 0x718096, "alumni": 0xA0AEC0}
TIER_LABELS = {
    "governing": "Governing partner",
    "affiliate": "Affiliate partner",
    "member": "Member",
    "alumni": "Alumni",
}


def _links(links: Mapping[str, str]) -> str:
    return " · ".join(f"[{name}]({url})" for name, url in links.items() if url.startswith(("http://", "https://")))


def chapter_embed(chapter: ChapterInfo, projects: Sequence[ProjectInfo], locale: str) -> discord.Embed:
    """Everything members want to know about a chapter, in one embed."""
    local_name = chapter.localised_name(locale)
    title = f"{chapter.name} · {local_name}" if local_name and local_name != chapter.name else chapter.name
    embed = discord.Embed(
        title=truncate(title, 256),
        url=chapter.website,
        description=truncate(chapter.localised_description(locale) or "", 1500) or None,
        colour=TIER_COLOURS.get(chapter.tier),
    )
    place = ", ".join(p for p in (chapter.city, chapter.country) if p)
    if place:
        embed.add_field(name="Where", value=f"{flag(chapter.country)} {place}".strip())
    if chapter.region:
        embed.add_field(name="Region", value=chapter.region)
    embed.add_field(name="Network", value=TIER_LABELS.get(chapter.tier, chapter.tier))
    if chapter.founded:
        embed.add_field(name="Founded", value=str(chapter.founded))
    if chapter.joined:
        embed.add_field(name="Joined the network", value=str(chapter.joined))
    if projects:
        names = ", ".join(p.name for p in projects[:8])
        more = f" and {len(projects) - 8} more" if len(projects) > 8 else ""
        embed.add_field(name=f"Projects ({len(projects)})", value=truncate(names + more, 1024), inline=False)
    if chapter.facts:
        embed.add_field(
            name="In numbers", value=truncate("\n".join(f"• {f}" for f in chapter.facts), 1024), inline=False
        )
    if chapter.people:
        people = ", ".join(
            f"{p.get('name')} ({p['role']})" if p.get("role") else str(p.get("name")) for p in chapter.people
        )
        embed.add_field(name="People", value=truncate(people, 1024), inline=False)
    links = {
        "Website": chapter.website or "",
        "Blog": chapter.feed_url or "",
        "Events": chapter.events_url or "",
    }
    links.update({name.capitalize(): url for name, url in chapter.social.items()})
    if text := _links(links):
        embed.add_field(name="Links", value=truncate(text, 1024), inline=False)
    aliases = ", ".join(chapter.aliases)
    embed.set_footer(text=truncate(f"Also known as: {aliases}" if aliases else chapter.key, 2048))
    return embed


def project_embed(project: ProjectInfo, chapter: ChapterInfo | None) -> discord.Embed:
    """A project with its chapter, topics, status and links."""
    embed = discord.Embed(
        title=truncate(project.name, 256),
        url=project.links.get("website") or project.code_url,
        description=truncate(project.description or "", 2000) or None,
        colour=TIER_COLOURS.get(chapter.tier) if chapter else None,
    )
    if chapter:
        embed.add_field(name="Chapter", value=chapter.name)
    embed.add_field(name="Status", value=project.status.capitalize())
    if project.topics:
        embed.add_field(name="Topics", value=truncate(", ".join(project.topics), 1024), inline=False)
    links = dict(project.links)
    if project.code_url:
        links["code"] = project.code_url
    if text := _links({name.capitalize(): url for name, url in links.items()}):
        embed.add_field(name="Links", value=truncate(text, 1024), inline=False)
    embed.set_footer(text=project.key)
    return embed


def chapter_line(chapter: ChapterInfo) -> str:
    """One line of a chapter list."""
    place = " · ".join(p for p in (f"{flag(chapter.country)} {chapter.country or ''}".strip(), chapter.city) if p)
    tier = TIER_LABELS.get(chapter.tier, chapter.tier)
    name = f"[{chapter.name}]({chapter.website})" if chapter.website else chapter.name
    return truncate(f"**{name}** — {tier}" + (f" · {place}" if place else ""), 350)


def project_line(project: ProjectInfo, chapter: ChapterInfo | None) -> str:
    """One line of a project list, with a short description."""
    url = project.links.get("website") or project.code_url
    name = f"[{project.name}]({url})" if url else project.name
    owner = f" — {chapter.name}" if chapter else ""
    about = f"\n{truncate(project.description, 140)}" if project.description else ""
    return truncate(f"**{name}**{owner} · {project.status}{about}", 400)


def overview_embed(overview: Overview) -> discord.Embed:
    """Network counts by region, tier and status."""
    embed = discord.Embed(
        title="The Code for All network",
        description=f"**{overview.chapters}** chapters · **{overview.projects}** projects · "
        f"**{overview.summits}** summits and meetings",
        colour=TIER_COLOURS["governing"],
    )
    embed.add_field(name="By region", value="\n".join(f"{r}: {n}" for r, n in overview.by_region.items()) or "—")
    embed.add_field(
        name="By tier",
        value="\n".join(f"{TIER_LABELS.get(t, t)}: {n}" for t, n in overview.by_tier.items()) or "—",
    )
    if overview.by_status:
        embed.add_field(name="Projects", value="\n".join(f"{s}: {n}" for s, n in overview.by_status.items()))
    return embed


def history_embed(title: str, changes: Sequence[ChangeInfo]) -> discord.Embed:
    """Who changed what and when, newest first."""
    lines = []
    for change in changes[:15]:
        fields = ", ".join(sorted(change.changes)) or "nothing"
        lines.append(f"{discord.utils.format_dt(change.at, 'f')} — **{change.actor_name}** {change.action}d: {fields}")
    embed = discord.Embed(
        title=truncate(f"History of {title}", 256),
        description=truncate("\n".join(lines), 4096) or "No changes recorded.",
    )
    if len(changes) > 15:
        embed.set_footer(text=f"Showing the latest 15 of {len(changes)} changes")
    return embed
