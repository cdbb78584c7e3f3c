"""Embeds for the directory, in the reader's language."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import discord

from bot.directory.countries import country_name, find_country, suggest_countries
from bot.directory.formats import shown_name
from bot.directory.index import normalise
from bot.directory.records import REGIONS, ImportIssue
from bot.directory.service import (
    TIERS,
    ChangeInfo,
    ChapterInfo,
    DirectoryService,
    Overview,
    ProjectInfo,
    topic_key,
)
from bot.errors import UserError
from bot.i18n import CATALOGUES, N_, Localeish, locale_tag, number, t, tn
from bot.lazy import LazyMap
from bot.text import flag, searchable, truncate
from bot.ui.charts import can_render, stacked_bar_chart
from bot.ui.pages import Listing

CHAPTERS, PROJECTS = "c", "p"  # listing kinds of page buttons, short to leave the button id's room to the query
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
        extra = len(projects) - 8
        more = (
            tn(locale, " and {count} more", " and {count} more", extra, count=number(locale, extra))
            if extra > 0
            else ""
        )
        embed.add_field(
            name=tn(
                locale, "Project ({count})", "Projects ({count})", len(projects), count=number(locale, len(projects))
            ),
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


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Rendered(Generic[K, V]):
    """What was rendered from the directory (cards, pages), kept until its revision changes.

    Values are shared between answers: never change one returned. At most `limit` are kept; past that, all go.
    """

    def __init__(self, directory: DirectoryService, limit: int = 4096) -> None:
        self._directory = directory
        self._limit = limit
        self._revision = directory.revision
        self._values: dict[K, V] = {}

    def get(self, key: K, render: Callable[[], V]) -> V:
        """The value kept under `key`, rendered now if missing or older than the directory."""
        if self._revision != self._directory.revision or len(self._values) >= self._limit:
            self._values.clear()
            self._revision = self._directory.revision
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = render()
        return value


class ChapterCards:
    """Rendered chapter cards by chapter and language."""

    def __init__(self, directory: DirectoryService, limit: int = 4096) -> None:
        self._directory = directory
        self._cards: Rendered[tuple[str, str], discord.Embed] = Rendered(directory, limit)

    def card(self, chapter: ChapterInfo, locale: Localeish) -> discord.Embed:
        """The chapter's card in the member's language (shared: never change the embed returned)."""
        return self._cards.get(
            (chapter.key, locale_tag(locale)),
            lambda: chapter_embed(chapter, self._directory.chapter_projects(chapter.key), locale),
        )


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
    chapters, projects, summits = overview.chapters, overview.projects, overview.summits
    embed = discord.Embed(
        title=t(locale, "The Code for All network"),
        description=" · ".join(
            (
                tn(locale, "**{count}** chapter", "**{count}** chapters", chapters, count=number(locale, chapters)),
                tn(locale, "**{count}** project", "**{count}** projects", projects, count=number(locale, projects)),
                tn(
                    locale,
                    "**{count}** summit or meeting",
                    "**{count}** summits and meetings",
                    summits,
                    count=number(locale, summits),
                ),
            )
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


@functools.lru_cache(maxsize=65536)
def short_token(value: str) -> str:
    """Six characters standing for a longer value (a chapter's key, a topic) in a button id."""
    return base64.urlsafe_b64encode(hashlib.blake2b(value.encode(), digest_size=6).digest()).decode()[:6]


def _choice_names(values: Iterable[str], labels: Mapping[str, str]) -> dict[str, str]:
    """Each normalised way to say a value (the value, its English label, its label in every catalogue) -> value."""
    names: dict[str, str] = {}
    for value in values:
        label = labels.get(value, value)
        for said in (value, label, *(t(language, label) for language in CATALOGUES)):
            names.setdefault(normalise(said), value)
    return names


def _find_choice(text: str, names: Mapping[str, str]) -> str | None:
    """The value `text` names exactly, else the one value whose name begins with it ('Latin America')."""
    typed = normalise(text)
    if typed in names:
        return names[typed]
    begun = {value for name, value in names.items() if typed and name.startswith(typed)}
    return begun.pop() if len(begun) == 1 else None


def find_tier(text: str) -> str:
    """The tier a member means: 'governing', 'Governing partner', or the label in their language."""
    tier = _find_choice(text, _choice_names(TIERS, TIER_LABELS))
    if tier is None:
        labels = ", ".join(TIER_LABELS[tier] for tier in TIERS)
        raise UserError(
            N_("“{value}” is not a place in the network: choose one of {choices}."), value=text, choices=labels
        )
    return tier


def find_region(text: str) -> str:
    """The region a member means: as the lists show it, the start of it ('Latin America'), or translated."""
    region = _find_choice(text, _choice_names(REGIONS, {}))
    if region is None:
        raise UserError(
            N_("“{value}” is not a region: choose one of {choices}."), value=text, choices=", ".join(REGIONS)
        )
    return region


def find_country_code(text: str) -> str:
    """The two-letter code of a country a member names in any language the bot speaks ('România' -> 'RO')."""
    code = find_country(text)
    if code is None:
        suggestions = suggest_countries(text)
        if suggestions:
            names = ", ".join(country_name(code, "en") for code in suggestions)
            raise UserError(
                N_("“{value}” is not a country I know. Did you mean: {suggestions}?"), value=text, suggestions=names
            )
        raise UserError(
            N_("“{value}” is not a country I know: type its name, such as Romania, or its code, such as RO."),
            value=text,
        )
    return code


def tier_choices(current: str, locale: Localeish) -> list[tuple[str, str]]:
    """(label in the member's language, tier) for autocomplete."""
    return _matching([(tier_label(tier, locale), tier) for tier in TIERS], current)


def region_choices(current: str, locale: Localeish) -> list[tuple[str, str]]:
    """(region in the member's language, region) for autocomplete."""
    return _matching([(t(locale, region), region) for region in REGIONS], current)


def country_choices(directory: DirectoryService, current: str, locale: Localeish) -> list[tuple[str, str]]:
    """(name in the member's language, code) of the countries that have chapters, for autocomplete."""
    codes = sorted({c.country for c in directory.chapters.values() if c.country})
    named = sorted((country_name(code, locale_tag(locale)), code) for code in codes)
    found = find_country(current) if current else None
    return _matching(named, current, also={found} if found else set())


def _matching(choices: list[tuple[str, str]], current: str, also: set[str] | None = None) -> list[tuple[str, str]]:
    typed = normalise(current)
    return [(name, value) for name, value in choices if typed in normalise(name) or value in (also or set())][:25]


def chapters_listing(directory: DirectoryService, args: Mapping[str, str], locale: Localeish) -> Listing:
    """Chapters filtered by region (r), country code (n) and tier (i)."""
    region, country, tier = args.get("r"), args.get("n"), args.get("i")
    found = directory.list_chapters(region=region, country=country, tier=tier)
    filters = ", ".join(
        v
        for v in (
            t(locale, region) if region else "",
            country_name(country, locale_tag(locale)) if country else "",
            tier_label(tier, locale) if tier else "",
        )
        if v
    )
    return Listing(
        t(locale, "Chapters ({filters})", filters=filters) if filters else t(locale, "Chapters"),
        LazyMap(found, lambda chapter: chapter_line(chapter, locale)),
        t(locale, "No chapter matches. Try /chapters with fewer options, or look a name up with /chapter."),
    )


def projects_args(directory: DirectoryService, words: str, chapter_key: str, topic: str, status: str) -> dict[str, str]:
    """What a project search's page buttons carry: the words, tokens for the chapter and topic, the status."""
    return {
        "w": searchable(words),
        "c": short_token(chapter_key) if chapter_key else "",
        "t": short_token(topic_key(topic)) if topic else "",
        "s": status,
    }


def projects_listing(directory: DirectoryService, args: Mapping[str, str], locale: Localeish) -> Listing:
    """Projects matching words (w), chapter (c) and topic (t) tokens, and status (s)."""
    words, status = args.get("w", ""), args.get("s")
    chapter = (
        next((c for c in directory.chapters.values() if short_token(c.key) == args["c"]), None)
        if args.get("c")
        else None
    )
    topic = (
        next((name for name in directory.topic_names() if short_token(topic_key(name)) == args["t"]), None)
        if args.get("t")
        else None
    )
    lost = (args.get("c") and chapter is None) or (args.get("t") and topic is None)
    found: Sequence[ProjectInfo] = (
        []
        if lost
        else directory.search_projects(words, chapter=chapter.key if chapter else None, topic=topic, status=status)
    )
    lines = LazyMap(found, lambda p: project_line(p, directory.chapters.get(p.chapter_key or ""), locale))
    what = " · ".join(
        v
        for v in (words, chapter.name if chapter else "", topic or "", t(locale, status.capitalize()) if status else "")
        if v
    )
    suggestions = (
        [p.localised_name(locale_tag(locale)) for p in directory.suggest_projects(words)] if words and not found else []
    )
    if suggestions:
        empty = t(locale, "No project matches. Did you mean: {suggestions}?", suggestions=", ".join(suggestions))
    else:
        empty = t(locale, "No project matches. Try fewer or other words, or /projects with no options to see them all.")
    return Listing(t(locale, "Projects: {filters}", filters=what) if what else t(locale, "Projects"), lines, empty)


def file_label(filename: str) -> str:
    """An uploaded file's name as the answers show it: cut short, its markdown and mentions made inert."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(shown_name(filename)))


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


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart as PNG bytes, and whether its labels are in the member's language (else English)."""

    png: bytes
    localised: bool


def network_chart(overview: Overview, locale: Localeish) -> Chart:
    """Chapters by region and tier, labelled in the member's language when the chart's fonts can draw it."""

    def chart(language: Localeish) -> tuple[str, dict[str, Mapping[str, int]], dict[str, str], str]:
        rows = {t(language, region): tiers for region, tiers in overview.by_region_tier.items()}
        series = {tier: tier_label(tier, language) for tier in TIERS}
        return t(language, "Chapters by region"), rows, series, t(language, "Chapters")

    title, rows, series, axis = chart(locale)
    localised = can_render([title, axis, *rows, *series.values()])
    if not localised:
        title, rows, series, axis = chart(None)
    return Chart(stacked_bar_chart(title, rows, series, axis), localised)
