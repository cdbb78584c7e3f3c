"""Parsing feeds with feedparser in a worker thread; each entry gets a stable identity."""

from __future__ import annotations

import asyncio
import calendar
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from bs4 import BeautifulSoup

from bot.errors import UserError
from bot.feeds.html import plain_text
from bot.i18n import N_

SUMMARY_HTML_LIMIT = 100_000
"""Only the start of a long summary is shown, so only that much is parsed again when rendering."""
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")


class NotAFeed(UserError):
    """The document is no feed; `alternates` lists the feeds a web page links to."""

    def __init__(self, alternates: list[str]) -> None:
        self.alternates = alternates
        if alternates:
            super().__init__(N_("That page is not a feed. Feeds found on it: {feeds}"), feeds=" ".join(alternates))
        else:
            super().__init__(N_("That address is not an RSS or Atom feed, and the page links to no feed."))


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry, with its identity key and its HTML summary as the feed gave it."""

    key: str
    title: str
    link: str | None
    summary_html: str
    summary_text: str
    author: str | None
    published: datetime | None
    categories: tuple[str, ...]
    image: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's title and its entries, newest first as the feed lists them."""

    title: str
    link: str | None
    entries: tuple[Entry, ...]


def normalise_link(link: str) -> str:
    """A link in a canonical form: lower-case scheme and host, no fragment, no default port or tracking."""
    parts = urlsplit(link.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith(_TRACKING)]
    )
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def entry_key(guid: str | None, link: str | None, title: str, published: str | None) -> str:
    """The identity of an entry: its guid, else its normalised link, else its title and publication date; hashed."""
    if guid and guid.strip():
        identity = "guid:" + guid.strip()
    elif link and link.strip():
        try:
            identity = "link:" + normalise_link(link)
        except ValueError:
            identity = "link:" + link.strip()
    else:
        identity = f"title:{title.strip()}\n{(published or '').strip()}"
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _http(url: str | None, base: str | None = None) -> str | None:
    if not url:
        return None
    try:
        absolute = urljoin(base or "", url.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in absolute):
        return None
    return urlunsplit(parts._replace(scheme=scheme))


def _published(raw: Any) -> datetime | None:
    parsed = raw.get("published_parsed") or raw.get("created_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _image(raw: Any, base: str | None) -> str | None:
    for media in list(raw.get("media_content") or []) + list(raw.get("media_thumbnail") or []):
        if isinstance(media, dict) and str(media.get("medium", "image")) == "image":
            url = _http(media.get("url"), base)
            if url:
                return url
    for enclosure in raw.get("enclosures") or []:
        if isinstance(enclosure, dict) and str(enclosure.get("type", "")).startswith("image/"):
            url = _http(enclosure.get("href"), base)
            if url:
                return url
    return None


def _summary(raw: Any) -> str:
    for content in raw.get("content") or []:
        if isinstance(content, dict) and _text(content.get("value")):
            return _text(content.get("value"))
    return _text(raw.get("summary"))


def _entry(raw: Any, base: str | None) -> Entry:
    title = _text(raw.get("title"))
    link = _http(_text(raw.get("link")), base)
    published = _published(raw)
    summary = _summary(raw)[:SUMMARY_HTML_LIMIT]
    categories = tuple(
        term for tag in raw.get("tags") or [] if isinstance(tag, dict) and (term := _text(tag.get("term")))
    )
    return Entry(
        key=entry_key(_text(raw.get("id")), _text(raw.get("link")), title, _text(raw.get("published"))),
        title=title,
        link=link,
        summary_html=summary,
        summary_text=plain_text(summary),
        author=_text(raw.get("author")) or None,
        published=published,
        categories=categories,
        image=_image(raw, base),
    )


def discover(html: bytes | str, base: str) -> list[str]:
    """The feeds a web page announces with `<link rel="alternate" type="...">`, as absolute URLs."""
    soup = BeautifulSoup(html, "html.parser")
    found: list[str] = []
    for link in soup.find_all("link"):
        rel = link.get("rel")
        rels = [str(r) for r in rel] if isinstance(rel, list) else str(rel or "").split()
        kind = str(link.get("type", "")).split(";")[0].strip().lower()
        href = _http(str(link.get("href", "")), base)
        if "alternate" in [r.lower() for r in rels] and kind in FEED_TYPES and href and href not in found:
            found.append(href)
    return found


def parse_sync(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document (blocking: call it through `parse`); a page with no entries raises NotAFeed."""
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    raw = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    entries = tuple(_entry(item, url) for item in raw.entries)
    if not entries and (raw.bozo or not raw.version):
        raise NotAFeed(discover(body, url))
    feed = raw.feed
    return ParsedFeed(title=_text(feed.get("title")), link=_http(_text(feed.get("link")), url), entries=entries)


_PARSER = ThreadPoolExecutor(1, thread_name_prefix="feed-parser")
"""Parsing is CPU work under the GIL: more threads would not parse faster, only take the GIL from the event loop
more often (a poll cycle over 500 feeds lagged the loop 60 ms with the default pool, under 40 ms with one)."""


async def parse(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document in the parser thread, never on the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_PARSER, parse_sync, body, url, content_type)
