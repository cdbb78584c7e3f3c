"""Translations of everything the bot says, from gettext catalogues read with Babel (no Discord here).

Catalogues are ``bot/locales/<lang>/LC_MESSAGES/bot.po`` (one per entry of `CATALOGUES`), made from the
template ``bot/locales/bot.pot``. A msgid is the English text itself, with ``str.format`` placeholders
such as ``{name}``; English needs no catalogue. The ``.po`` files are parsed once per process, with no
compile step. Code marks what to translate with ``t(locale, "English text", name=value)``, or with
``N_("English text")`` for a literal translated later by value; `bot.translations` translates the slash
commands and maintains the catalogues.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import logging
import string
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

log = logging.getLogger(__name__)

DOMAIN = "bot"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"

CATALOGUES = ("zh_TW", "ro", "es", "pl", "pt_BR", "de", "ja")
"""Languages with a catalogue, as catalogue (folder) names."""

SUPPORTED = ("en-US", "en-GB", "zh-TW", "ro", "es-ES", "es-419", "pl", "pt-BR", "de", "ja")
"""Discord locales the bot speaks: English, and every locale served by a catalogue."""

LANGUAGES = {
    "en-US": "English",
    "zh-TW": "中文（台灣）",
    "ro": "Română",
    "es-ES": "Español",
    "pl": "Polski",
    "pt-BR": "Português (Brasil)",
    "de": "Deutsch",
    "ja": "日本語",
}
"""The languages a server can choose for the bot's channel posts, by Discord locale, in their own words."""

COMMAND_NAME = "command name"
OPTION_NAME = "option name"
NAME_LENGTH = 32
TEXT_LENGTH = 100
NO_DESCRIPTION = "…"
"""The description discord.py gives an option that has none; never translated."""


class LocaleTag(Protocol):
    """Anything with a locale tag as its value, such as `discord.Locale`."""

    @property
    def value(self) -> str:
        """The tag, e.g. ``zh-TW``."""
        ...


Localeish = str | LocaleTag | None

# Language subtag (lowercase) -> catalogue; Chinese only in its traditional script.
_BY_LANGUAGE = {"ro": "ro", "es": "es", "pl": "pl", "pt": "pt_BR", "de": "de", "ja": "ja"}
_TRADITIONAL_CHINESE = frozenset({"tw", "hant", "hk", "mo"})
# Scripts whose combining marks Discord allows in names, besides letters and numbers.
_NAME_RANGES = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x11B00, 0x11B5F), (0x0E00, 0x0E7F))
_FORMAT_ERRORS = (LookupError, ValueError, AttributeError, TypeError)


def locale_tag(locale: Localeish) -> str:
    """The BCP 47 tag of a locale, e.g. ``zh-TW``."""
    tag = locale if isinstance(locale, str) or locale is None else locale.value
    return (tag or "").strip().replace("_", "-")


def catalogue_for(locale: Localeish) -> str | None:
    """The catalogue serving a Discord (or BCP 47) locale, or None for English and unknown locales."""
    language, *subtags = locale_tag(locale).lower().split("-")
    if language == "zh":
        return "zh_TW" if _TRADITIONAL_CHINESE & set(subtags) and "hans" not in subtags else None
    return _BY_LANGUAGE.get(language)


def catalogue_path(name: str) -> Path:
    """Where the catalogue `name` (e.g. ``pt_BR``) lives."""
    return LOCALES_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


@functools.cache
def load_catalogue(name: str) -> Catalog | None:
    """The parsed catalogue `name`, read once per process; None when it does not exist."""
    path = catalogue_path(name)
    if not path.is_file():
        log.warning("no catalogue %s at %s", name, path)
        return None
    return read_catalogue(path, name)


def N_(message: str, /) -> str:
    """Mark a literal for the template without translating it; translate it later with `t`."""
    return message


def translation(locale: Localeish, message: str, context: str | None = None) -> str | None:
    """The raw catalogue text for `message`, or None when absent, empty or fuzzy (or for English)."""
    name = catalogue_for(locale)
    catalogue = load_catalogue(name) if name else None
    entry = catalogue.get(message, context) if catalogue else None
    if entry is None or entry.fuzzy or not isinstance(entry.string, str) or not entry.string:
        return None
    return entry.string


@functools.lru_cache(maxsize=4096)
def placeholders(text: str) -> frozenset[str] | None:
    """The ``str.format`` field names in `text`, or None when its braces are malformed."""
    try:
        return frozenset(field for _, field, _, _ in string.Formatter().parse(text) if field is not None)
    except ValueError:
        return None


def t(locale: Localeish, message: str, /, **params: object) -> str:
    """`message` in `locale`, formatted with `params`; English when no usable translation. Never raises."""
    translated = translation(locale, message)
    if translated is not None and placeholders(translated) == placeholders(message):
        try:
            return translated.format(**params)
        except _FORMAT_ERRORS:
            log.warning("bad %s translation of %r", catalogue_for(locale), message)
    try:
        return message.format(**params)
    except _FORMAT_ERRORS:
        log.warning("cannot format %r with %s", message, sorted(params))
        return message


def tn(locale: Localeish, singular: str, plural: str, count: int, /, **params: object) -> str:
    """The form of `singular`/`plural` that `count` takes in `locale` (gettext plural forms), formatted with
    `params`; English when no usable translation. Never raises."""
    name = catalogue_for(locale)
    catalogue = load_catalogue(name) if name else None
    entry = catalogue.get(singular) if catalogue else None
    english = singular if count == 1 else plural
    forms = entry.string if entry is not None and not entry.fuzzy else None
    if catalogue is not None and isinstance(forms, tuple) and all(forms):
        chosen = forms[min(_plural_rule(catalogue.plural_expr)(count), len(forms) - 1)]
        if (placeholders(chosen) or frozenset()) <= (placeholders(plural) or frozenset()):
            try:
                return chosen.format(**params)
            except _FORMAT_ERRORS:
                log.warning("bad %s translation of %r", name, singular)
    return t(None, english, **params)


@functools.cache
def _plural_rule(expression: str) -> Callable[[int], int]:
    """A catalogue's ``Plural-Forms`` expression as a function from a count to a form's index."""
    return gettext.c2py(expression)


@functools.lru_cache(maxsize=64)
def _babel_locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def babel_locale(locale: Localeish) -> Locale:
    """The Babel locale of a Discord locale (``en`` when unknown)."""
    return _babel_locale(locale_tag(locale) or "en")


def number(locale: Localeish, value: float | Decimal, /) -> str:
    """A number written the local way, e.g. ``1.234,5`` in German."""
    return _number(locale_tag(locale) or "en", value)


@functools.lru_cache(maxsize=4096, typed=True)
def _number(tag: str, value: float | Decimal) -> str:
    return format_decimal(value, locale=_babel_locale(tag))


def date(
    locale: Localeish,
    value: dt.datetime | dt.date,
    /,
    format: str = "medium",
    *,
    tzinfo: dt.tzinfo | None = None,
) -> str:
    """A date or a date and time written the local way; `format` is a Babel width or pattern."""
    if isinstance(value, dt.datetime):
        return format_datetime(value, format, tzinfo=tzinfo, locale=babel_locale(locale))
    return format_date(value, format, locale=babel_locale(locale))


def _allowed_in_name(char: str) -> bool:
    if char in "-_" or unicodedata.category(char)[0] in "LN":
        return True
    return any(low <= ord(char) <= high for low, high in _NAME_RANGES)


def valid_name(text: str) -> bool:
    """Whether Discord accepts `text` as a slash command or option name."""
    return 1 <= len(text) <= NAME_LENGTH and text == text.lower() and all(map(_allowed_in_name, text))
