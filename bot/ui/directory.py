"""Embeds for the directory, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.directory.records import ImportIssue
from bot.directory.service import TIERS, ChangeInfo, ChapterInfo, DirectoryService, Overview, ProjectInfo
from bot.i18n import N_, Localeish, locale_tag, number, t
from bot.lazy import LazyMap
from bot.text import flag, truncate
from bot.ui.charts import can_render, stacked_bar_chart
from bot.ui.pages import Listing

TIER_COLOURS = {"governing": 0x2B6CB0, "affiliate": 0x38A169, "member": 0x718096, "alumni": 0xA0AEC0}
TIER_LABELS = {
    "governing": N_("Governing partner"),
    "affiliate": N_("Affiliate partner"),
    "member": N_("Member"),
    "alumni": N_("Alumni"),
}


def tier_label(tier: str, locale: Localeish) -> str:
    """A tier as people say it."""
    return t(locale, TIER_LABELS.get(tier, tier))


EMBED_TOTAL = 6000  # Discord's limit on all the text of one embed


def within_limits(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields, then shorten the description, until the embed fits Discord's total limit."""
    while len(embed) > EMBED_TOTAL and len(embed.fields) > 1:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > EMBED_TOTAL and embed.description:
        embed.description = truncate(embed.description, max(len(embed.description) - (len(embed) - EMBED_TOTAL), 1))
    return embed


def _links(links: Mapping[str, str]) -> str:
    return " · ".join(f"[{name}]({url})" for name, url in links.items() if url.startswith(("http://", "https://")))


def chapter_embed(chapter: ChapterInfo, projects: Sequence[ProjectInfo], locale: Localeish) -> discord.Embed:
    """Everything members want to know about a chapter, in one embed."""
    tag = locale_tag(locale)
    local_name = chapter.localised_name(tag)
    title = f"{chapter.name} · {local_name}" if local_name and local_name != chapter.name else chapter.name
    embed = discord.Embed(
        title=truncate(title, 256),
        url=chapter.website,
        description=truncate(chapter.localised_description(tag) or "", 1500) or None,
        colour=TIER_COLOURS.get(chapter.tier),
    )
    place = ", ".join(p for p in (chapter.city, chapter.country) if p)
    if place:
        embed.add_field(name=t(locale, "Where"), value=f"{flag(chapter.country)} {place}".strip())
    if chapter.region:
        embed.add_field(name=t(locale, "Region"), value=t(locale, chapter.region))
    embed.add_field(name=t(locale, "Network"), value=tier_label(chapter.tier, locale))
    if chapter.founded:
        embed.add_field(name=t(locale, "Founded"), value=str(chapter.founded))
    if chapter.joined:
        embed.add_field(name=t(locale, "Joined the network"), value=str(chapter.joined))
    if projects:
        names = ", ".join(p.name for p in projects[:8])
        more = t(locale, " and {count} more", count=len(projects) - 8) if len(projects) > 8 else ""
        embed.add_field(
            name=t(locale, "Projects ({count})", count=number(locale, len(projects))),
            value=truncate(names + more, 1024),
            inline=False,
        )
    if chapter.facts:
        facts = "\n".join(f"• {fact}" for fact in chapter.facts)
        embed.add_field(name=t(locale, "In numbers"), value=truncate(facts, 1024), inline=False)
    if chapter.people:
        people = ", ".join(
            f"{p.get('name')} ({p['role']})" if p.get("role") else str(p.get("name")) for p in chapter.people
        )
        embed.add_field(name=t(locale, "People"), value=truncate(people, 1024), inline=False)
    links = {
        t(locale, "Website"): chapter.website or "",
        t(locale, "Blog"): chapter.feed_url or "",
        t(locale, "Events"): chapter.events_url or "",
    }
    links.update({name.capitalize(): url for name, url in chapter.social.items()})
    if text := _links(links):
        embed.add_field(name=t(locale, "Links"), value=truncate(text, 1024), inline=False)
    aliases = ", ".join(chapter.aliases)
    footer = t(locale, "Also known as: {aliases}", aliases=aliases) if aliases else chapter.key
    embed.set_footer(text=truncate(footer, 2048))
    return within_limits(embed)


def project_embed(project: ProjectInfo, chapter: ChapterInfo | None, locale: Localeish) -> discord.Embed:
    """A project with its chapter, topics, status and links."""
    tag = locale_tag(locale)
    embed = discord.Embed(
        title=truncate(project.localised_name(tag), 256),
        url=project.links.get("website") or project.code_url,
        description=truncate(project.localised_description(tag) or "", 2000) or None,
        colour=TIER_COLOURS.get(chapter.tier) if chapter else None,
    )
    if chapter:
        embed.add_field(name=t(locale, "Chapter"), value=chapter.name)
    embed.add_field(name=t(locale, "Status"), value=t(locale, project.status.capitalize()))
    if project.topics:
        embed.add_field(name=t(locale, "Topics"), value=truncate(", ".join(project.topics), 1024), inline=False)
    links = dict(project.links)
    if project.code_url:
        links["code"] = project.code_url
    if text := _links({name.capitalize(): url for name, url in links.items()}):
        embed.add_field(name=t(locale, "Links"), value=truncate(text, 1024), inline=False)
    embed.set_footer(text=project.key)
    return within_limits(embed)


def chapter_line(chapter: ChapterInfo, locale: Localeish) -> str:
    """One line of a chapter list."""
    country = f"{flag(chapter.country)} {chapter.country or ''}".strip()
    place = " · ".join(p for p in (country, chapter.city) if p)
    name = f"[{chapter.name}]({chapter.website})" if chapter.website else chapter.name
    return truncate(f"**{name}** — {tier_label(chapter.tier, locale)}" + (f" · {place}" if place else ""), 350)


def project_line(project: ProjectInfo, chapter: ChapterInfo | None, locale: Localeish) -> str:
    """One line of a project list, with a short description."""
    tag = locale_tag(locale)
    url = project.links.get("website") or project.code_url
    title = project.localised_name(tag)
    name = f"[{title}]({url})" if url else title
    owner = f" — {chapter.name}" if chapter else ""
    status = t(locale, project.status.capitalize())
    description = project.localised_description(tag)
    about = f"\n{truncate(description, 140)}" if description else ""
    return truncate(f"**{name}**{owner} · {status}{about}", 400)


def overview_embed(overview: Overview, locale: Localeish) -> discord.Embed:
    """Network counts by region, tier and status."""
    embed = discord.Embed(
        title=t(locale, "The Code for All network"),
        description=t(
            locale,
            "**{chapters}** chapters · **{projects}** projects · **{summits}** summits and meetings",
            chapters=number(locale, overview.chapters),
            projects=number(locale, overview.projects),
            summits=number(locale, overview.summits),
        ),
        colour=TIER_COLOURS["governing"],
    )
    regions = "\n".join(f"{t(locale, region)}: {number(locale, n)}" for region, n in overview.by_region.items())
    embed.add_field(name=t(locale, "By region"), value=regions or "—")
    tiers = "\n".join(f"{tier_label(tier, locale)}: {number(locale, n)}" for tier, n in overview.by_tier.items())
    embed.add_field(name=t(locale, "By tier"), value=tiers or "—")
    if overview.by_status:
        statuses = "\n".join(f"{t(locale, s.capitalize())}: {number(locale, n)}" for s, n in overview.by_status.items())
        embed.add_field(name=t(locale, "Projects"), value=statuses)
    return embed


def history_embed(title: str, changes: Sequence[ChangeInfo], locale: Localeish) -> discord.Embed:
    """Who changed what and when, newest first."""
    lines = []
    for change in changes[:15]:
        when = discord.utils.format_dt(change.at, "f")
        fields = ", ".join(sorted(change.changes)) or t(locale, "nothing")
        if change.action == "create":
            lines.append(
                t(locale, "{when} — **{actor}** created: {fields}", when=when, actor=change.actor_name, fields=fields)
            )
        else:
            lines.append(
                t(locale, "{when} — **{actor}** updated: {fields}", when=when, actor=change.actor_name, fields=fields)
            )
    embed = discord.Embed(
        title=truncate(t(locale, "History of {name}", name=title), 256),
        description=truncate("\n".join(lines), 4096) or t(locale, "No changes recorded."),
    )
    if len(changes) > 15:
        embed.set_footer(text=t(locale, "Showing the latest 15 of {total} changes", total=len(changes)))
    return embed


def chapters_listing(directory: DirectoryService, args: Mapping[str, str], locale: Localeish) -> Listing:
    """Chapters filtered by region (r), country (n) and tier (i)."""
    found = directory.list_chapters(region=args.get("r"), country=args.get("n"), tier=args.get("i"))
    region, tier = args.get("r"), args.get("i")
    filters = ", ".join(
        v for v in (t(locale, region) if region else "", args.get("n"), tier_label(tier, locale) if tier else "") if v
    )
    return Listing(
        t(locale, "Chapters ({filters})", filters=filters) if filters else t(locale, "Chapters"),
        LazyMap(found, lambda chapter: chapter_line(chapter, locale)),
        t(locale, "No chapter matches."),
    )


def projects_listing(directory: DirectoryService, args: Mapping[str, str], locale: Localeish) -> Listing:
    """Projects matching words (w), chapter (c), topic (t) and status (s)."""
    found = directory.search_projects(
        args.get("w", ""), chapter=args.get("c"), topic=args.get("t"), status=args.get("s")
    )
    lines = LazyMap(found, lambda p: project_line(p, directory.chapters.get(p.chapter_key or ""), locale))
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


def issue_line(issue: ImportIssue, locale: Localeish) -> str:
    """One record of an import with problems (skipped, or imported without its bad fields), for the organiser."""
    reason = issue.reason(locale)
    if issue.index < 0:
        return t(locale, "• the file: {reason}", reason=reason)
    if not issue.skipped:
        return t(
            locale,
            "• record {number} ({key}) was imported without these fields: {reason}",
            number=issue.index + 1,
            key=issue.key,
            reason=reason,
        )
    if issue.key:
        return t(locale, "• record {number} ({key}): {reason}", number=issue.index + 1, key=issue.key, reason=reason)
    return t(locale, "• record {number}: {reason}", number=issue.index + 1, reason=reason)


def network_chart(overview: Overview, locale: Localeish) -> bytes:
    """Chapters by region and tier, labelled in the member's language when the chart font can draw it."""

    def chart(language: Localeish) -> tuple[str, dict[str, Mapping[str, int]], dict[str, str], str]:
        rows = {t(language, region): tiers for region, tiers in overview.by_region_tier.items()}
        series = {tier: tier_label(tier, language) for tier in TIERS}
        return t(language, "Chapters by region"), rows, series, t(language, "Chapters")

    title, rows, series, axis = chart(locale)
    if not can_render([title, axis, *rows, *series.values()]):
        title, rows, series, axis = chart(None)
    return stacked_bar_chart(title, rows, series, axis)
