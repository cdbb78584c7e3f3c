"""Feed HTML made inert: a sanitised tree, and its plain words."""

from __future__ import annotations

import warnings
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

# Feed text is parsed as HTML on purpose, whatever it looks like.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

_DROPPED = (
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript", "template", "form",
    "input", "button", "select", "textarea", "svg", "math", "head", "title", "meta", "link", "base", "audio", "video",
    "source", "track", "canvas", "map", "area", "dialog", "portal",
)  # fmt: skip
_LINK_SCHEMES = ("http", "https", "mailto")


def _safe_link(href: str) -> bool:
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in _LINK_SCHEMES and (parts.scheme.lower() == "mailto" or bool(parts.hostname))


def sanitise(html: str) -> tuple[BeautifulSoup, str | None]:
    """The HTML as a tree with nothing active left, and the first image's URL (images are taken out)."""
    soup = BeautifulSoup(html, "html.parser")
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    image: str | None = None
    for img in soup.find_all("img"):
        src = str(img.get("src") or "")
        if image is None and src.startswith(("http://", "https://")) and _safe_link(src):
            image = src.strip()
        img.decompose()
    for tag in soup.find_all(True):
        href = tag.get("href")
        if tag.name == "a" and isinstance(href, str) and _safe_link(href):
            tag.attrs = {"href": href}
            continue
        tag.attrs = {}
        if tag.name == "a":
            tag.unwrap()
    return soup, image


def plain_text(html: str) -> str:
    """The words of an HTML fragment, without markup."""
    soup, _ = sanitise(html)
    return soup.get_text(" ", strip=True)
