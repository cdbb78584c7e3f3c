"""Turning an entry into a channel post: sanitised HTML to Discord markdown, cut to Discord's limits."""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any

from markdownify import MarkdownConverter

from bot.errors import UserError
from bot.feeds.html import sanitise
from bot.feeds.parse import Entry
from bot.i18n import N_, Localeish, t
from bot.text import truncate

TITLE_LIMIT = 256
AUTHOR_LIMIT = 256
FOOTER_LIMIT = 256
SUMMARY_LIMIT = 1500
CONTENT_LIMIT = 2000
TEMPLATE_LIMIT = 1000
URL_LIMIT = 2000
PLACEHOLDERS = ("title", "link", "summary", "author", "chapter")
FILTER_WORDS = 25
FILTER_WORD_LIMIT = 100

_MARKUP = re.compile(r"<(?=[A-Za-z/!?@#:&])")
_MASS_MENTION = re.compile(r"@(?=(everyone|here)\b)", re.IGNORECASE)
_SCRIPT_WORD = re.compile(r"(javascript|vbscript|livescript)(\s*):", re.IGNORECASE)
_MARKDOWN = re.compile(r"([\\*_~`|\[\]])")
_BLANK_LINES = re.compile(r"\n{3,}")


class _Discord(MarkdownConverter):
    """markdownify's converter with Discord's dialect: ATX headings, no tables, no images."""

    def __init__(self) -> None:
        super().__init__(heading_style="ATX", bullets="-", strip_document="strip", escape_misc=False)


_CONVERTER = _Discord()


@dataclass(frozen=True, slots=True)
class Post:
    """What goes to the channel: message content (a template's output) or an embed, as Discord JSON."""

    content: str | None
    embed: dict[str, Any] | None


def neutralise(text: str) -> str:
    """Make text inert in Discord: no mass mentions, no `<...>` markup, no script links."""
    text = _MASS_MENTION.sub("@\u200b", text)
    text = _MARKUP.sub("<\u200b", text)
    return _SCRIPT_WORD.sub(lambda m: f"{m[1]}\u200b{m[2]}:", text)


def escape_markdown(text: str) -> str:
    """Text shown as typed in Discord markdown."""
    return _MARKDOWN.sub(r"\\\1", text)


def html_to_markdown(html: str) -> tuple[str, str | None]:
    """Discord markdown for an HTML fragment, and its first image."""
    soup, image = sanitise(html)
    markdown = _CONVERTER.convert_soup(soup)
    markdown = "\n".join(line.rstrip() for line in markdown.splitlines())
    return neutralise(_BLANK_LINES.sub("\n\n", markdown).strip()), image


def validate_template(template: str | None) -> str | None:
    """A template with only known placeholders and within the length limit, or a UserError."""
    if template is None or not template.strip():
        return None
    template = template.strip()
    if len(template) > TEMPLATE_LIMIT:
        raise UserError(N_("A template can be at most {limit} characters long."), limit=TEMPLATE_LIMIT)
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        raise UserError(N_("The template has a curly bracket that opens or closes no placeholder.")) from None
    for _, name, spec, conversion in fields:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            raise UserError(N_("The template may only use the placeholders {placeholders}."), placeholders=known)
    return template


def parse_words(text: str | None) -> tuple[str, ...]:
    """Comma-separated filter words, trimmed, or a UserError when there are too many or too long ones."""
    words = tuple(dict.fromkeys(w.strip() for w in (text or "").split(",") if w.strip()))
    if len(words) > FILTER_WORDS or any(len(w) > FILTER_WORD_LIMIT for w in words):
        raise UserError(
            N_("Filters take at most {count} comma-separated words of at most {length} characters each."),
            count=FILTER_WORDS,
            length=FILTER_WORD_LIMIT,
        )
    return words


def fold(text: str) -> str:
    """Text compared without case or accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _mentions(haystack: str, word: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(fold(word)) + r"(?!\w)", haystack) is not None


def passes(entry: Entry, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """Whether an entry's title, summary or categories contain an included word (if any) and no excluded one."""
    if not include and not exclude:
        return True
    haystack = fold(" ".join((entry.title, entry.summary_text, *entry.categories)))
    if include and not any(_mentions(haystack, w) for w in include):
        return False
    return not any(_mentions(haystack, w) for w in exclude)


def render(
    entry: Entry,
    *,
    locale: Localeish,
    feed_title: str = "",
    chapter: str | None = None,
    template: str | None = None,
) -> Post:
    """The post for an entry: the template's text when the subscription has one, else an embed."""
    summary, image = html_to_markdown(entry.summary_html)
    title = neutralise(entry.title) or t(locale, "(untitled)")
    author = neutralise(entry.author or "")
    if template:
        values = {
            "title": escape_markdown(title),
            "link": entry.link or "",
            "summary": truncate(summary, SUMMARY_LIMIT),
            "author": escape_markdown(author),
            "chapter": escape_markdown(neutralise(chapter or "")),
        }
        return Post(content=truncate(neutralise(template.format_map(values)), CONTENT_LIMIT), embed=None)
    embed: dict[str, Any] = {"type": "rich", "title": truncate(title, TITLE_LIMIT)}
    if entry.link and len(entry.link) <= URL_LIMIT:
        embed["url"] = entry.link
    if summary:
        embed["description"] = truncate(summary, SUMMARY_LIMIT)
    if author:
        embed["author"] = {"name": truncate(author, AUTHOR_LIMIT)}
    if entry.published is not None:
        embed["fields"] = [
            {"name": t(locale, "Published"), "value": f"<t:{int(entry.published.timestamp())}:f>", "inline": True}
        ]
    footer = neutralise(chapter or feed_title)
    if footer:
        embed["footer"] = {"text": truncate(footer, FOOTER_LIMIT)}
    image = image or entry.image
    if image and len(image) <= URL_LIMIT:
        embed["image"] = {"url": image}
    return Post(content=None, embed=embed)
