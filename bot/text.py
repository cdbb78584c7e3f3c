"""Text helpers shared by every renderer."""

from __future__ import annotations

import unicodedata


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut + "…"


def flag(country: str | None) -> str:
    """The flag emoji of an ISO 3166-1 alpha-2 code ('' when unknown)."""
    if not country or len(country) != 2 or not country.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in country.upper())


def well_formed(text: str) -> str:
    """The text with each lone surrogate (which no UTF-8 encoder accepts) replaced by U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def searchable(text: str) -> str:
    """Only the letters, marks and digits of `text`, words separated by one space: what a search reads."""
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in well_formed(text))
    return " ".join(kept.split())


def storable(text: str, *, multiline: bool = False) -> str:
    """`text` as a database keeps it: no control characters (new lines and tabs kept when `multiline`), no lone
    surrogates; PostgreSQL refuses a NUL in text, and neither shows in Discord."""
    kept = "\n\t" if multiline else ""
    return "".join(c for c in well_formed(text) if c in kept or unicodedata.category(c) != "Cc")
