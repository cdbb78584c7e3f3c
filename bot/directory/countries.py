"""Country names in the languages the bot speaks (CLDR, through Babel), and forgiving look-ups of them."""

from __future__ import annotations

import functools

from babel import Locale
from rapidfuzz import fuzz, process

from bot.directory.index import normalise

LANGUAGES = ("en", "zh_Hant", "ro", "es", "pl", "pt", "de", "ja")
"""CLDR locales whose country names find a country: English and every language of a catalogue."""


@functools.cache
def _territories() -> dict[str, dict[str, str]]:
    """Two-letter code -> {language: name}, for the countries CLDR names (not regions such as '419')."""
    names: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and code != "ZZ":
                names.setdefault(code, {})[language] = name
    return names


@functools.cache
def _by_name() -> dict[str, str]:
    """Every normalised name (and code) -> its code."""
    found: dict[str, str] = {}
    for code, names in _territories().items():
        found.setdefault(normalise(code), code)
        for name in names.values():
            found.setdefault(normalise(name), code)
    return found


def country_names(code: str | None) -> tuple[str, ...]:
    """A country's names in every language the bot speaks: 'TW' -> ('Taiwan', '台灣', 'Taiwán', …)."""
    names = _territories().get((code or "").upper(), {})
    return tuple(dict.fromkeys(names.values()))


def country_name(code: str, locale_tag: str) -> str:
    """A country's name in a Discord locale ('zh-TW' -> '台灣'), else in English, else the code."""
    language = locale_tag.replace("-", "_")
    names = _territories().get(code.upper(), {})
    for candidate in (language, "zh_Hant" if language.lower().startswith("zh") else "", language.split("_")[0]):
        if candidate in names:
            return names[candidate]
    return names.get("en", code.upper())


def find_country(text: str) -> str | None:
    """The two-letter code a member means by a code or a name in any of the languages ('România' -> 'RO')."""
    return _by_name().get(normalise(text))


def suggest_countries(text: str, limit: int = 3) -> list[str]:
    """Codes of the countries whose names look most like `text`, for 'did you mean'."""
    names = _by_name()
    matches = process.extract(normalise(text), list(names), scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=70)
    return list(dict.fromkeys(names[name] for name, _, _ in matches))[:limit]
