"""Directory records: one field list per kind, read by every import format, the store mapping and export.

Each field of a record declares the rule (`bot.directory.validators`) that reads it, so a file, a form and an
export agree on what a field holds and how long it may be. `build` reads a record with every problem it has.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from bot.directory import validators as v
from bot.directory.validators import Problem
from bot.errors import UserError
from bot.i18n import N_, Localeish

TIERS = ("governing", "affiliate", "member", "alumni")
REGIONS = (
    "Africa",
    "Asia",
    "Europe",
    "North America",
    "Latin America & Caribbean",
    "Oceania",
    "Middle East",
)
STATUSES = ("active", "completed", "archived", "idea")

CHAPTER_KEY = 100
"""A chapter key's limit: its column, and Discord's limit on an autocomplete choice value."""
PROJECT_KEY = 250
NAME = 200
"""A name's limit: its column (an embed title holds 256)."""
SHORT_TEXT = 100
URL = 500
DESCRIPTION = 4000
"""A description's limit: it must fit an embed description (4,096)."""
FACT = 1000
"""A fact's limit: it must fit an embed field value (1,024) with its bullet."""

FILE_INDEX = -1
"""The index of an issue about the file itself rather than one record."""

Pairs = tuple[tuple[str, str], ...]
"""A small frozen mapping: sorted ``(key, value)`` pairs."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PROJECT_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)?$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_TRANSLITERATE = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i", "ħ": "h"}
)
_PAIR_FIELDS = frozenset({"names", "social", "links", "descriptions"})


def slugify(text: str) -> str:
    """A stable lowercase ``a-z0-9-`` slug; text with no Latin letters or digits gets ``x-<hash>``.

    >>> slugify("Codeando México")
    'codeando-mexico'
    """
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_TRANSLITERATE))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii")
    slug = _NON_ALNUM.sub("-", ascii_text).strip("-")
    if slug:
        return slug
    canonical = unicodedata.normalize("NFC", text.strip()).casefold()
    return "x-" + hashlib.blake2s(canonical.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()


def derive_key(name: str, limit: int = CHAPTER_KEY) -> str:
    """The key of a new record named `name`: its slug, cut at a hyphen to at most `limit` characters.

    >>> len(derive_key("Code for " + "a very long name " * 12))
    99
    """
    slug = slugify(name)
    if len(slug) <= limit:
        return slug
    cut = slug[: limit + 1]
    return (cut[: cut.rfind("-")] if "-" in cut else cut[:limit]).strip("-")


def project_key(chapter: str, name: str) -> str:
    """The key of a chapter's project, ``<chapter>/<slug of name>``, within its column."""
    return f"{chapter}/{derive_key(name, PROJECT_KEY - len(chapter) - 1)}"


def host_of(url: str | None) -> str | None:
    """The host of a URL without ``www.``: ``http://www.code4.ro/`` -> ``code4.ro``."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")


def _rule(rule: v.Rule[Any]) -> dict[str, Any]:
    """A field's metadata: the rule that reads it."""
    return {"rule": rule}


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named in the directory, with their role when known."""

    name: str
    role: str | None = None


def _translations(limit: int, *, multiline: bool = False) -> v.Rule[Pairs]:
    return v.pairs(v.locale_tag, v.text(limit, multiline=multiline))


_LINKS = v.pairs(v.label, v.url(URL))
_FACTS = v.strings(v.text(FACT))
_WORDS = v.strings(v.text(SHORT_TEXT))


@dataclass(frozen=True, slots=True)
class ChapterRecord:
    """A member organisation of the network."""

    key: str = field(metadata=_rule(v.key(CHAPTER_KEY, _SLUG, derive_key)))
    name: str = field(metadata=_rule(v.required(v.text(NAME))))
    short_name: str | None = field(default=None, metadata=_rule(v.text(SHORT_TEXT)))
    aliases: tuple[str, ...] = field(default=(), metadata=_rule(v.strings(v.text(NAME))))
    names: Pairs = field(default=(), metadata=_rule(_translations(NAME)))
    country: str | None = field(default=None, metadata=_rule(v.country))
    city: str | None = field(default=None, metadata=_rule(v.text(SHORT_TEXT)))
    region: str | None = field(default=None, metadata=_rule(v.choice(REGIONS)))
    tier: str = field(default="member", metadata=_rule(v.with_default(v.choice(TIERS), "member")))
    founded: int | None = field(default=None, metadata=_rule(v.year))
    joined: int | None = field(default=None, metadata=_rule(v.year))
    website: str | None = field(default=None, metadata=_rule(v.url(URL)))
    feed_url: str | None = field(default=None, metadata=_rule(v.url(URL)))
    events_url: str | None = field(default=None, metadata=_rule(v.url(URL)))
    social: Pairs = field(default=(), metadata=_rule(v.pairs(v.label, v.text(URL))))
    links: Pairs = field(default=(), metadata=_rule(_LINKS))
    description: str | None = field(default=None, metadata=_rule(v.text(DESCRIPTION, multiline=True)))
    descriptions: Pairs = field(default=(), metadata=_rule(_translations(DESCRIPTION, multiline=True)))
    facts: tuple[str, ...] = field(default=(), metadata=_rule(_FACTS))
    people: tuple[Person, ...] = field(default=(), metadata=_rule(v.people(SHORT_TEXT, Person)))
    tags: tuple[str, ...] = field(default=(), metadata=_rule(_WORDS))
    latitude: float | None = field(default=None, metadata=_rule(v.coordinate(90)))
    longitude: float | None = field(default=None, metadata=_rule(v.coordinate(180)))
    active: bool = field(default=True, metadata=_rule(v.boolean(True)))


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """Something a chapter builds; ``chapter`` is the chapter's key."""

    key: str = field(metadata=_rule(v.key(PROJECT_KEY, _PROJECT_KEY, slugify)))
    chapter: str = field(metadata=_rule(v.required(v.text(CHAPTER_KEY))))
    name: str = field(metadata=_rule(v.required(v.text(NAME))))
    names: Pairs = field(default=(), metadata=_rule(_translations(NAME)))
    description: str | None = field(default=None, metadata=_rule(v.text(DESCRIPTION, multiline=True)))
    descriptions: Pairs = field(default=(), metadata=_rule(_translations(DESCRIPTION, multiline=True)))
    topics: tuple[str, ...] = field(default=(), metadata=_rule(_WORDS))
    status: str | None = field(default=None, metadata=_rule(v.choice(STATUSES)))
    links: Pairs = field(default=(), metadata=_rule(_LINKS))
    code_url: str | None = field(default=None, metadata=_rule(v.url(URL)))


def _as_given(value: object, name: str) -> object:
    return value


@dataclass(frozen=True, slots=True)
class SummitRecord:
    """A summit or meeting; ``starts_at`` is timezone-aware when known (`build` reads it in ``timezone``)."""

    key: str = field(metadata=_rule(v.key(CHAPTER_KEY, _SLUG, derive_key)))
    name: str = field(metadata=_rule(v.required(v.text(NAME))))
    city: str | None = field(default=None, metadata=_rule(v.text(SHORT_TEXT)))
    country: str | None = field(default=None, metadata=_rule(v.country))
    starts_at: datetime | None = field(default=None, metadata=_rule(_as_given))
    timezone: str | None = field(default=None, metadata=_rule(v.timezone))
    year: int | None = field(default=None, metadata=_rule(v.year))
    description: str | None = field(default=None, metadata=_rule(v.text(DESCRIPTION, multiline=True)))
    facts: tuple[str, ...] = field(default=(), metadata=_rule(_FACTS))
    url: str | None = field(default=None, metadata=_rule(v.url(URL)))


Record = ChapterRecord | ProjectRecord | SummitRecord
R = TypeVar("R", ChapterRecord, ProjectRecord, SummitRecord)


def _summit_times(values: dict[str, Any], problems: list[Problem]) -> None:
    """Read ``starts_at`` in the summit's time zone; its year must agree with ``year``."""
    zone = values.get("timezone")
    starts_at = v.collect(
        problems, lambda value, name: v.moment(value, name, zone), values.get("starts_at"), "starts_at", None
    )
    values["starts_at"] = starts_at
    if starts_at is None:
        return
    stated_year = values.get("year")
    if stated_year is not None and stated_year != starts_at.year:
        problems.append(
            v.problem(N_("year {year} does not match starts_at ({actual})"), year=stated_year, actual=starts_at.year)
        )
    values["year"] = starts_at.year


_FINISH: dict[type[Any], Callable[[dict[str, Any], list[Problem]], None]] = {SummitRecord: _summit_times}


def field_names(kind: type[Record]) -> tuple[str, ...]:
    """The fields of a record kind, in order: the one list every format reads and writes."""
    return tuple(spec.name for spec in fields(kind))


def build(kind: type[R], raw: Mapping[Any, Any], *, lenient: bool = False) -> tuple[R | None, tuple[Problem, ...]]:
    """Read a record of `kind` from a mapping of its fields, with every problem it has.

    Strict (our files and forms): unknown and repeated fields are problems, and any problem refuses the record.
    Lenient (external formats, mapped onto our field names): a bad optional field is left out and reported,
    and only a bad required field refuses the record.
    """
    problems: list[Problem] = [] if lenient else v.known_fields(raw, field_names(kind))
    values: dict[str, Any] = {}
    refused = False
    for spec in fields(kind):
        found: list[Problem] = []
        rule: v.Rule[Any] = spec.metadata["rule"]
        value = v.collect(found, rule, raw.get(spec.name), spec.name, MISSING)
        if found:
            problems += found
            refused = refused or spec.default is MISSING
        else:
            values[spec.name] = value
    if kind in _FINISH:
        _FINISH[kind](values, problems)
    if refused or (problems and not lenient):
        return None, tuple(problems)
    return kind(**values), tuple(problems)


class DirectoryDataError(UserError, ValueError):
    """A file or form cannot be read as directory data: every problem, each a message id with parameters."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = problems
        super().__init__(problems[0].message, **dict(problems[0].params))
        self.args = ("; ".join(map(str, problems)),)

    def translated(self, locale: Localeish) -> str:
        """Every problem in the reader's language, a line each."""
        return "\n".join(_sentence(p.text(locale)) for p in self.problems)


def _sentence(text: str) -> str:
    text = text.lstrip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "。", "!", "?", ")", "…")) else text + "."


def validate(kind: type[R], values: Mapping[str, Any]) -> R:
    """A record of `kind` from a form's values; raises `DirectoryDataError` with every problem."""
    record, problems = build(kind, values)
    if record is None:
        raise DirectoryDataError(*problems)
    return record


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """The problems of one record (``index`` in its ``section``) or, at index -1, of the file.

    ``skipped`` tells whether the record was left out, or imported without its bad fields.
    """

    index: int
    key: str | None
    problems: tuple[Problem, ...]
    section: str = ""
    skipped: bool = True

    def reason(self, locale: Localeish = None) -> str:
        """The problems in the reader's language."""
        return "; ".join(p.text(locale) for p in self.problems)

    def __str__(self) -> str:
        where = "the file" if self.index == FILE_INDEX else f"{self.section or 'record'} #{self.index + 1}"
        named = f" ({self.key})" if self.key else ""
        return f"{where}{named}: {self.reason()}"


def issue(index: int, key: str | None, section: str, *problems: Problem, skipped: bool = True) -> ImportIssue:
    """An `ImportIssue`."""
    return ImportIssue(index, key, problems, section, skipped)


@dataclass(frozen=True)
class ImportBatch:
    """Everything one file yielded: records, the issues met, and the network block if any.

    ``curated`` tells whether the file is the network's own data (our YAML: the seed, an export, an organiser's
    file), whose fields win over what external sources say.
    """

    chapters: tuple[ChapterRecord, ...] = ()
    projects: tuple[ProjectRecord, ...] = ()
    summits: tuple[SummitRecord, ...] = ()
    issues: tuple[ImportIssue, ...] = ()
    network: Mapping[str, Any] | None = field(default=None)
    curated: bool = False


def alias_index(chapters: Iterable[ChapterRecord]) -> dict[str, str]:
    """Map the slug of every key, name, alias and website host to its chapter key.

    Pass it to the JSON parsers so that ``g0v.tw`` or ``Code for Romania`` in an
    external file lands on the keys already in use (``g0v``, ``code4romania``).
    """
    index: dict[str, str] = {}
    for chapter in chapters:
        names = [chapter.key, chapter.name, chapter.short_name, host_of(chapter.website), *chapter.aliases]
        names.extend(value for _, value in chapter.names)
        for name in names:
            if name:
                index.setdefault(slugify(name), chapter.key)
    return index


# -- store mapping -----------------------------------------------------------------------------------------------


def plain_values(record: Record) -> dict[str, Any]:
    """Every field of a record as plain lists, dicts and scalars."""
    out: dict[str, Any] = {}
    for name in field_names(type(record)):
        value = getattr(record, name)
        if name in _PAIR_FIELDS:
            value = dict(value)
        elif name == "people":
            value = [{"name": p.name, "role": p.role} if p.role else {"name": p.name} for p in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def stated(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that say something: no None, empty list or empty mapping."""
    return {k: value for k, value in values.items() if value is not None and value != [] and value != {}}


def columns(record: Record) -> dict[str, Any]:
    """All of a record's fields as database column values; a chapter's ``links`` go with its ``social`` links."""
    values = plain_values(record)
    if isinstance(record, ChapterRecord):
        values["social"] = {**values.pop("links"), **values["social"]}
    if isinstance(record, ProjectRecord) and values["status"] is None:
        del values["status"]
    return values


def stated_columns(record: Record) -> dict[str, Any]:
    """The column values a record states: empty fields are left out, so a sparser source erases nothing."""
    return stated(columns(record))
