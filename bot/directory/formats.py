"""Read and write directory files as plain records, ready to be upserted by key.

Three formats are understood: our own YAML (``data/directory.yaml``), Code for
America's ``brigade-information`` ``organizations.json`` and the civic tech
project index (a JSON list of projects). Parsing never stops at a bad record: it
becomes an :class:`ImportIssue` and the rest of the file still imports.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.errors import UserError

FORMAT_VERSION = 1
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
MIN_YEAR, MAX_YEAR = 1990, 2100
FILE_INDEX = -1
"""The index of an issue about the file itself rather than one record."""

_PAIR_FIELDS = frozenset({"names", "social", "links", "descriptions"})
Pairs = tuple[tuple[str, str], ...]
"""A small frozen mapping: sorted ``(key, value)`` pairs."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PROJECT_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)?$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_BARE_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)+(?:[/:?#]\S*)?$")
_T = TypeVar("_T")
_R = TypeVar("_R", "ChapterRecord", "ProjectRecord", "SummitRecord")
_TRANSLITERATE = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "ı": "i", "ħ": "h"}
)


class DirectoryDataError(UserError, ValueError):
    """A file or form cannot be read as directory data; the message is a sentence for people."""


class _Invalid(Exception):
    """A record (or one of its fields) cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone named in the directory, with their role when known."""

    name: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ChapterRecord:
    """A member organisation of the network."""

    key: str
    name: str
    short_name: str | None = None
    aliases: tuple[str, ...] = ()
    names: Pairs = ()
    country: str | None = None
    city: str | None = None
    region: str | None = None
    tier: str = "member"
    founded: int | None = None
    joined: int | None = None
    website: str | None = None
    feed_url: str | None = None
    events_url: str | None = None
    social: Pairs = ()
    links: Pairs = ()
    description: str | None = None
    descriptions: Pairs = ()
    facts: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()
    tags: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """Something a chapter builds; ``chapter`` is the chapter's key."""

    key: str
    chapter: str
    name: str
    names: Pairs = ()
    description: str | None = None
    descriptions: Pairs = ()
    topics: tuple[str, ...] = ()
    status: str | None = None
    links: Pairs = ()
    code_url: str | None = None


@dataclass(frozen=True, slots=True)
class SummitRecord:
    """A summit or meeting; ``starts_at`` is timezone-aware when known."""

    key: str
    name: str
    city: str | None = None
    country: str | None = None
    starts_at: datetime | None = None
    timezone: str | None = None
    year: int | None = None
    description: str | None = None
    facts: tuple[str, ...] = ()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A problem with one record (``index`` in its ``section``) or, at index -1, with the file."""

    index: int
    key: str | None
    reason: str
    section: str = ""

    def __str__(self) -> str:
        where = "the file" if self.index == FILE_INDEX else f"{self.section or 'record'} #{self.index + 1}"
        named = f" ({self.key})" if self.key else ""
        return f"{where}{named}: {self.reason}"


@dataclass(frozen=True)
class ImportBatch:
    """Everything one file yielded: records, the issues met, and the network block if any."""

    chapters: tuple[ChapterRecord, ...] = ()
    projects: tuple[ProjectRecord, ...] = ()
    summits: tuple[SummitRecord, ...] = ()
    issues: tuple[ImportIssue, ...] = ()
    network: Mapping[str, Any] | None = field(default=None)


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


# ---------------------------------------------------------------------------
# Field readers shared by every format


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"{name} must be text, not {_short(value)}")
    stripped = value.strip()
    return stripped or None


def _required_text(value: object, name: str) -> str:
    text = _text(value, name)
    if text is None:
        raise _Invalid(f"{name} is required")
    return text


def _key(value: object, pattern: re.Pattern[str] = _SLUG) -> str:
    key = _required_text(value, "key")
    if not pattern.match(key):
        raise _Invalid(f"key {key!r} must be lowercase letters, digits and single hyphens (e.g. {slugify(key)!r})")
    return key


def _choice(value: object, name: str, allowed: tuple[str, ...]) -> str | None:
    text = _text(value, name)
    if text is not None and text not in allowed:
        raise _Invalid(f"{name} {text!r} is not one of: {', '.join(allowed)}")
    return text


def _year(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{name} must be a year such as 2015, not {_short(value)}")
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise _Invalid(f"{name} {value} is not a plausible year ({MIN_YEAR}-{MAX_YEAR})")
    return value


def _url(value: object, name: str) -> str | None:
    text = _text(value, name)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise _Invalid(f"{name} {text!r} is not an http(s) address with a host")
    return text


def _lenient_url(value: object, name: str) -> str | None:
    """Like :func:`_url`, but a bare host such as ``github.com/x`` gets ``https://``."""
    if isinstance(value, str) and _BARE_HOST.match(value.strip()) and "://" not in value:
        value = "https://" + value.strip()
    return _url(value, name)


def _country(value: object) -> str | None:
    text = _text(value, "country")
    if text is None:
        return None
    if not _COUNTRY.match(text):
        raise _Invalid(f"country {text!r} must be a two-letter ISO code such as RO")
    return text.upper()


def _timezone(value: object) -> str | None:
    text = _text(value, "timezone")
    if text is None:
        return None
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _Invalid(f"timezone {text!r} is not an IANA time zone such as Europe/Bucharest") from None
    return text


def _coordinate(value: object, name: str, bound: float) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _Invalid(f"{name} must be a number, not {_short(value)}")
    try:
        number = float(value) if isinstance(value, int | float | str) else float("nan")
    except ValueError:
        number = float("nan")
    if not -bound <= number <= bound:
        raise _Invalid(f"{name} {_short(value)} is not a number between -{bound:g} and {bound:g}")
    return number


def _bool(value: object, name: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _Invalid(f"{name} must be true or false, not {_short(value)}")
    return value


def _strings(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise _Invalid(f"{name} must be a list of text")
    items = (_text(item, f"each item of {name}") for item in value)
    return tuple(dict.fromkeys(item for item in items if item))


def _pairs(value: object, name: str, check: Callable[[str, str], str | None] | None = None) -> Pairs:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise _Invalid(f"{name} must be a mapping such as {{twitter: '@handle'}}")
    pairs: list[tuple[str, str]] = []
    for raw_key, raw_value in value.items():
        key = _text(raw_key, f"a key of {name}")
        text = check(str(key), raw_value) if check and key else _text(raw_value, f"{name}.{key}")
        if key and text:
            pairs.append((key, text))
    return tuple(sorted(pairs))


def _locale_text(locale: str, value: object) -> str | None:
    if not _LOCALE.match(locale):
        raise _Invalid(f"{locale!r} is not a language tag such as ro or zh-TW")
    return _text(value, locale)


def _link(name: str, value: object) -> str | None:
    return _url(value, f"links.{name}")


def _people(value: object) -> tuple[Person, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Invalid("people must be a list of {name, role}")
    people: list[Person] = []
    for item in value:
        if isinstance(item, str):
            people.append(Person(_required_text(item, "a person's name")))
        elif isinstance(item, Mapping):
            _no_unknown(item, {"name", "role"}, "a person")
            people.append(Person(_required_text(item.get("name"), "a person's name"), _text(item.get("role"), "role")))
        else:
            raise _Invalid(f"each person must be a name or {{name, role}}, not {_short(item)}")
    return tuple(people)


def _no_unknown(record: Mapping[Any, Any], known: set[str] | frozenset[str], what: str) -> None:
    unknown = [str(name) for name in record if name not in known]
    if unknown:
        raise _Invalid(f"unknown field(s) in {what}: {', '.join(sorted(unknown))}")


def _starts_at(value: object, zone: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise _Invalid("starts_at needs a time as well as a date, e.g. 2018-11-08T09:00")
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Invalid(f"starts_at {value!r} is not a date and time such as 2018-11-08T09:00") from None
    else:
        raise _Invalid(f"starts_at must be a date and time such as 2018-11-08T09:00, not {_short(value)}")
    if zone is not None:
        tz = ZoneInfo(zone)
        return moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    if moment.tzinfo is None:
        raise _Invalid("starts_at has no time zone: add timezone, e.g. Europe/Bucharest")
    return moment


# ---------------------------------------------------------------------------
# Our YAML format

_CHAPTER_FIELDS = frozenset(
    {
        "key", "name", "short_name", "aliases", "names", "country", "city", "region", "tier", "founded",
        "joined", "website", "feed_url", "events_url", "social", "links", "description", "descriptions",
        "facts", "people", "tags", "latitude", "longitude", "active",
    }
)  # fmt: skip
_PROJECT_FIELDS = frozenset(
    {"key", "chapter", "name", "names", "description", "descriptions", "topics", "status", "links", "code_url"}
)
_SUMMIT_FIELDS = frozenset(
    {"key", "name", "city", "country", "starts_at", "timezone", "year", "description", "facts", "url"}
)
_TOP_LEVEL = frozenset({"version", "network", "chapters", "projects", "summits"})


def _chapter(record: Mapping[Any, Any]) -> ChapterRecord:
    _no_unknown(record, _CHAPTER_FIELDS, "a chapter")
    return ChapterRecord(
        key=_key(record.get("key")),
        name=_required_text(record.get("name"), "name"),
        short_name=_text(record.get("short_name"), "short_name"),
        aliases=_strings(record.get("aliases"), "aliases"),
        names=_pairs(record.get("names"), "names", _locale_text),
        country=_country(record.get("country")),
        city=_text(record.get("city"), "city"),
        region=_choice(record.get("region"), "region", REGIONS),
        tier=_choice(record.get("tier"), "tier", TIERS) or "member",
        founded=_year(record.get("founded"), "founded"),
        joined=_year(record.get("joined"), "joined"),
        website=_url(record.get("website"), "website"),
        feed_url=_url(record.get("feed_url"), "feed_url"),
        events_url=_url(record.get("events_url"), "events_url"),
        social=_pairs(record.get("social"), "social"),
        links=_pairs(record.get("links"), "links", _link),
        description=_text(record.get("description"), "description"),
        descriptions=_pairs(record.get("descriptions"), "descriptions", _locale_text),
        facts=_strings(record.get("facts"), "facts"),
        people=_people(record.get("people")),
        tags=_strings(record.get("tags"), "tags"),
        latitude=_coordinate(record.get("latitude"), "latitude", 90),
        longitude=_coordinate(record.get("longitude"), "longitude", 180),
        active=_bool(record.get("active"), "active", True),
    )


def _project(record: Mapping[Any, Any]) -> ProjectRecord:
    _no_unknown(record, _PROJECT_FIELDS, "a project")
    return ProjectRecord(
        key=_key(record.get("key"), _PROJECT_KEY),
        chapter=_required_text(record.get("chapter"), "chapter"),
        name=_required_text(record.get("name"), "name"),
        names=_pairs(record.get("names"), "names", _locale_text),
        description=_text(record.get("description"), "description"),
        descriptions=_pairs(record.get("descriptions"), "descriptions", _locale_text),
        topics=_strings(record.get("topics"), "topics"),
        status=_choice(record.get("status"), "status", STATUSES),
        links=_pairs(record.get("links"), "links", _link),
        code_url=_url(record.get("code_url"), "code_url"),
    )


def _summit(record: Mapping[Any, Any]) -> SummitRecord:
    _no_unknown(record, _SUMMIT_FIELDS, "a summit")
    zone = _timezone(record.get("timezone"))
    starts_at = _starts_at(record.get("starts_at"), zone)
    year = _year(record.get("year"), "year")
    if starts_at is not None:
        if year is not None and year != starts_at.year:
            raise _Invalid(f"year {year} does not match starts_at ({starts_at.year})")
        year = starts_at.year
    return SummitRecord(
        key=_key(record.get("key")),
        name=_required_text(record.get("name"), "name"),
        city=_text(record.get("city"), "city"),
        country=_country(record.get("country")),
        starts_at=starts_at,
        timezone=zone,
        year=_year(year, "starts_at year"),
        description=_text(record.get("description"), "description"),
        facts=_strings(record.get("facts"), "facts"),
        url=_url(record.get("url"), "url"),
    )


def _record_key(record: object) -> str | None:
    if isinstance(record, Mapping):
        key = record.get("key")
        if isinstance(key, str) and key.strip():
            return key.strip()
    return None


def _parse_section(
    section: str,
    records: object,
    parse: Callable[[Mapping[Any, Any]], _R],
    issues: list[ImportIssue],
) -> list[tuple[int, _R]]:
    """Parse each record of a section, keeping its index; bad records become issues."""
    if records is None:
        return []
    if not isinstance(records, list):
        issues.append(ImportIssue(FILE_INDEX, section, f"{section} must be a list of records", section))
        return []
    parsed: list[tuple[int, _R]] = []
    for index, record in enumerate(records):
        try:
            if not isinstance(record, Mapping):
                raise _Invalid(f"expected a record with fields, got {_short(record)}")
            parsed.append((index, parse(record)))
        except _Invalid as problem:
            issues.append(ImportIssue(index, _record_key(record), str(problem), section))
    return parsed


def _unique(section: str, records: list[tuple[int, _R]], issues: list[ImportIssue]) -> list[tuple[int, _R]]:
    """Keep the first record of each key; later ones become duplicate-key issues."""
    seen: dict[str, int] = {}
    kept: list[tuple[int, _R]] = []
    for index, record in records:
        if record.key in seen:
            reason = f"duplicate key {record.key!r} (first used by {section} #{seen[record.key] + 1})"
            issues.append(ImportIssue(index, record.key, reason, section))
            continue
        seen[record.key] = index
        kept.append((index, record))
    return kept


def parse_yaml(text: str) -> ImportBatch:
    """Parse our directory YAML; bad records become issues, the rest still imports.

    Raises :class:`DirectoryDataError` (a ``ValueError``) only when the text is not YAML, its
    top level is not a mapping, or its version is not 1.
    """
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as error:
        detail = " ".join(str(error).split())[:200]
        raise DirectoryDataError(f"The directory file is not valid YAML: {detail}") from None
    if data is None:
        return ImportBatch()
    if not isinstance(data, Mapping):
        raise DirectoryDataError(
            f"The directory file must be a mapping with chapters, projects and summits, not {type(data).__name__}."
        )
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise DirectoryDataError(f"The directory file has version {_short(version)}; only version 1 is understood.")
    issues: list[ImportIssue] = [
        ImportIssue(FILE_INDEX, str(name), f"unknown top-level field {_short(name)}", "file")
        for name in data
        if name not in _TOP_LEVEL
    ]
    network = data.get("network")
    if network is not None and not isinstance(network, Mapping):
        issues.append(ImportIssue(FILE_INDEX, "network", "network must be a mapping", "file"))
        network = None

    chapters = _unique("chapters", _parse_section("chapters", data.get("chapters"), _chapter, issues), issues)
    projects = _unique("projects", _parse_section("projects", data.get("projects"), _project, issues), issues)
    summits = _unique("summits", _parse_section("summits", data.get("summits"), _summit, issues), issues)
    # A project's chapter may be in this file or already in the directory: the import checks it.
    return ImportBatch(
        chapters=tuple(chapter for _, chapter in chapters),
        projects=tuple(project for _, project in projects),
        summits=tuple(summit for _, summit in summits),
        issues=tuple(sorted(issues, key=_issue_order)),
        network=dict(network) if network is not None else None,
    )


def _issue_order(issue: ImportIssue) -> tuple[int, int]:
    order = ("file", "chapters", "projects", "summits", "organizations")
    rank = order.index(issue.section) if issue.section in order else len(order)
    return rank, issue.index


# ---------------------------------------------------------------------------
# Code for America brigade-information organizations.json

_COUNTRIES: dict[str, tuple[str, str]] = {
    "australia": ("AU", "Oceania"),
    "belgium": ("BE", "Europe"),
    "brazil": ("BR", "Latin America & Caribbean"),
    "cameroon": ("CM", "Africa"),
    "canada": ("CA", "North America"),
    "chile": ("CL", "Latin America & Caribbean"),
    "colombia": ("CO", "Latin America & Caribbean"),
    "croatia": ("HR", "Europe"),
    "ecuador": ("EC", "Latin America & Caribbean"),
    "finland": ("FI", "Europe"),
    "france": ("FR", "Europe"),
    "germany": ("DE", "Europe"),
    "ghana": ("GH", "Africa"),
    "guatemala": ("GT", "Latin America & Caribbean"),
    "ireland": ("IE", "Europe"),
    "jamaica": ("JM", "Latin America & Caribbean"),
    "japan": ("JP", "Asia"),
    "kenya": ("KE", "Africa"),
    "kosovo": ("XK", "Europe"),
    "malaysia": ("MY", "Asia"),
    "mexico": ("MX", "Latin America & Caribbean"),
    "morocco": ("MA", "Africa"),
    "netherlands": ("NL", "Europe"),
    "new zealand": ("NZ", "Oceania"),
    "nigeria": ("NG", "Africa"),
    "pakistan": ("PK", "Asia"),
    "peru": ("PE", "Latin America & Caribbean"),
    "poland": ("PL", "Europe"),
    "puerto rico": ("PR", "Latin America & Caribbean"),
    "romania": ("RO", "Europe"),
    "sierra leone": ("SL", "Africa"),
    "south africa": ("ZA", "Africa"),
    "south korea": ("KR", "Asia"),
    "sweden": ("SE", "Europe"),
    "taiwan": ("TW", "Asia"),
    "tanzania": ("TZ", "Africa"),
    "uganda": ("UG", "Africa"),
    "united kingdom": ("GB", "Europe"),
    "united states of america": ("US", "North America"),
    "united states": ("US", "North America"),
    "usa": ("US", "North America"),
}
_CONTINENTS = {
    "africa": "Africa",
    "asia": "Asia",
    "europe": "Europe",
    "north america": "North America",
    "south america": "Latin America & Caribbean",
    "central america": "Latin America & Caribbean",
    "caribbean": "Latin America & Caribbean",
    "latin america": "Latin America & Caribbean",
    "australia": "Oceania",
    "oceania": "Oceania",
    "middle east": "Middle East",
}
_NO_TEXT: tuple[str, ...] = ()
_CODE_FOR = re.compile(r"^code\s+for\s+([^\W_]+(?:\s+[^\W_]+)*)$", re.IGNORECASE)
_GOVERNING_TAG = "Code for All"
_AFFILIATE_TAG = "Code for All Affiliate"


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold().split())


def _name_variants(name: str, host: str | None, previous: Iterable[str]) -> tuple[str, ...]:
    variants = [*previous]
    match = _CODE_FOR.match(name)
    if match:
        variants.append("Code4" + "".join(match.group(1).split()))
    accentless = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    if accentless.strip() and accentless != name:
        variants.append(accentless)
    if host:
        variants.append(host)
    return tuple(dict.fromkeys(v for v in variants if v and v != name))


class _Fields:
    """Reads optional fields of an external record, turning bad values into issues."""

    def __init__(self, section: str, index: int, key: str, issues: list[ImportIssue]) -> None:
        self.section, self.index, self.key, self.issues = section, index, key, issues

    def get(self, read: Callable[[], _T], default: _T) -> _T:
        """The value ``read`` returns, or ``default`` with an issue when it is invalid."""
        try:
            return read()
        except _Invalid as problem:
            self.issues.append(ImportIssue(self.index, self.key, f"{problem}; ignored", self.section))
            return default


def _tier(tags: tuple[str, ...]) -> str:
    if _AFFILIATE_TAG in tags:
        return "affiliate"
    return "governing" if _GOVERNING_TAG in tags else "member"


def _organization(
    index: int,
    record: Mapping[str, Any],
    known: Mapping[str, str],
    shared_hosts: set[str],
    issues: list[ImportIssue],
) -> ChapterRecord:
    name = _required_text(record.get("name"), "name")
    location = record.get("location")
    location = location if isinstance(location, Mapping) else {}
    website_raw = record.get("website")
    host = host_of(website_raw if isinstance(website_raw, str) else None)
    if host in shared_hosts:
        host = None
    previous_raw = record.get("previous_names")
    previous = (
        tuple(p.strip() for p in previous_raw if isinstance(p, str) and p.strip())
        if isinstance(previous_raw, list)
        else ()
    )
    candidates = [name, host, *previous]
    key = next((known[slugify(c)] for c in candidates if c and slugify(c) in known), slugify(name))
    reader = _Fields("organizations", index, key, issues)

    country_name = _plain(str(location.get("country") or ""))
    country, region = _COUNTRIES.get(country_name, (None, None))
    if region is None:
        region = _CONTINENTS.get(_plain(str(location.get("continent") or "")))
    city = reader.get(lambda: _text(location.get("city"), "location.city"), None)
    if city is None and not location:
        city_field = reader.get(lambda: _text(record.get("city"), "city"), None)
        if city_field:
            city = city_field.split(",")[0].strip() or None
    coordinates = location.get("coordinates")
    coordinates = coordinates if isinstance(coordinates, Mapping) else {}
    social_raw = record.get("social_profiles")
    social = {
        str(k).casefold(): v.strip()
        for k, v in (social_raw.items() if isinstance(social_raw, Mapping) else ())
        if isinstance(v, str) and v.strip()
    }
    tags = reader.get(lambda: _strings(record.get("tags"), "tags"), _NO_TEXT)
    website = reader.get(lambda: _lenient_url(website_raw, "website"), None)
    projects_url = reader.get(lambda: _lenient_url(record.get("projects_list_url"), "projects_list_url"), None)
    return ChapterRecord(
        key=key,
        name=name,
        aliases=_name_variants(name, host, previous),
        country=country,
        city=city,
        region=region,
        tier=_tier(tags),
        website=website,
        feed_url=reader.get(lambda: _lenient_url(record.get("rss"), "rss"), None),
        events_url=reader.get(lambda: _lenient_url(record.get("events_url"), "events_url"), None),
        social=tuple(sorted(social.items())),
        links=(("projects", projects_url),) if projects_url else (),
        tags=tags,
        latitude=reader.get(
            lambda: _coordinate(record.get("latitude") or coordinates.get("latitude"), "latitude", 90), None
        ),
        longitude=reader.get(
            lambda: _coordinate(record.get("longitude") or coordinates.get("longitude"), "longitude", 180),
            None,
        ),
    )


def parse_brigade_organizations(data: list[dict[str, Any]], known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse brigade-information ``organizations.json``: every organisation, tiered by its tags.

    ``Code for All Affiliate`` makes an affiliate, ``Code for All`` a governing partner, anything
    else a plain ``member`` (its ``tags`` tell whether it belongs to the network at all). Keys are
    slugs of the name unless ``known`` (see :func:`alias_index`) maps its name, a previous name or
    its website host (when no other organisation in the file shares it) to a key.
    """
    known = known or {}
    hosts = Counter(
        host_of(record["website"])
        for record in data
        if isinstance(record, Mapping) and isinstance(record.get("website"), str)
    )
    shared_hosts = {host for host, count in hosts.items() if host and count > 1}
    issues: list[ImportIssue] = []
    chapters: list[tuple[int, ChapterRecord]] = []
    for index, record in enumerate(data):
        try:
            if not isinstance(record, Mapping):
                raise _Invalid(f"expected an organisation object, got {_short(record)}")
            chapters.append((index, _organization(index, record, known, shared_hosts, issues)))
        except _Invalid as problem:
            issues.append(ImportIssue(index, _name_key(record), str(problem), "organizations"))
    unique = _unique("organizations", chapters, issues)
    return ImportBatch(chapters=tuple(chapter for _, chapter in unique), issues=tuple(sorted(issues, key=_issue_order)))


def _name_key(record: object) -> str | None:
    if isinstance(record, Mapping) and isinstance(record.get("name"), str) and record["name"].strip():
        return slugify(record["name"])
    return None


# ---------------------------------------------------------------------------
# Civic tech project index


def _code_url(record: Mapping[str, Any]) -> str | None:
    code = record.get("code_url")
    if code:
        return _lenient_url(code, "code_url")
    git = record.get("git_url")
    if isinstance(git, str) and git.startswith("git://"):
        return _url("https://" + git.removeprefix("git://").removesuffix(".git"), "git_url")
    return None


_PUSHED_ACTIVE = frozenset({"week", "month", "year"})


def _index_project(
    index: int, record: Mapping[str, Any], known: Mapping[str, str], issues: list[ImportIssue]
) -> ProjectRecord:
    name = _required_text(record.get("name"), "name")
    organization = _required_text(record.get("organization_name") or record.get("organization"), "organization_name")
    chapter = known.get(slugify(organization), slugify(organization))
    key = f"{chapter}/{slugify(name)}"
    reader = _Fields("projects", index, key, issues)
    status = reader.get(lambda: _choice(record.get("status"), "status", STATUSES), None)
    if status is None and record.get("last_pushed_within") in _PUSHED_ACTIVE:
        status = "active"
    link = reader.get(lambda: _lenient_url(record.get("link_url"), "link_url"), None)
    return ProjectRecord(
        key=key,
        chapter=chapter,
        name=name,
        description=reader.get(lambda: _text(record.get("description"), "description"), None),
        topics=reader.get(lambda: _strings(record.get("topics"), "topics"), _NO_TEXT),
        status=status,
        links=(("website", link),) if link else (),
        code_url=reader.get(lambda: _code_url(record), None),
    )


def parse_project_index(data: list[dict[str, Any]], known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse a civic tech project index list; a project's key is ``<chapter slug>/<name slug>``.

    The chapter is the slug of the organisation's name, or its key in ``known`` (see
    :func:`alias_index`). Projects pushed to within a year are marked ``active``.
    """
    known = known or {}
    issues: list[ImportIssue] = []
    projects: list[tuple[int, ProjectRecord]] = []
    for index, record in enumerate(data):
        try:
            if not isinstance(record, Mapping):
                raise _Invalid(f"expected a project object, got {_short(record)}")
            projects.append((index, _index_project(index, record, known, issues)))
        except _Invalid as problem:
            issues.append(ImportIssue(index, None, str(problem), "projects"))
    unique = _unique("projects", projects, issues)
    return ImportBatch(projects=tuple(project for _, project in unique), issues=tuple(sorted(issues, key=_issue_order)))


# ---------------------------------------------------------------------------
# Files


_CODE4RO_STATUS = {"development": "active", "done": "completed", "covid": "active"}


def parse_code4ro_apps(items: list[Any]) -> ImportBatch:
    """Code for Romania's app catalogue (code4.ro): one entry per app and language (en, ro)."""
    issues: list[ImportIssue] = []
    by_slug: dict[str, dict[str, Mapping[str, Any]]] = {}
    for index, item in enumerate(items):
        slug, lang, title = item.get("slug"), item.get("lang"), item.get("title")
        if not (isinstance(slug, str) and isinstance(lang, str) and isinstance(title, str) and title.strip()):
            issues.append(ImportIssue(index, _record_key(item), "needs a slug, a lang and a title", "apps"))
            continue
        by_slug.setdefault(slug, {})[lang] = item
    projects = []
    for slug, texts in by_slug.items():
        main = texts.get("en") or next(iter(texts.values()))
        others = {lang: text for lang, text in texts.items() if text is not main}
        status = _CODE4RO_STATUS.get(str(main.get("status")))
        link = main.get("link")
        projects.append(
            ProjectRecord(
                key=f"code4romania/{slugify(slug)}",
                chapter="code4romania",
                name=str(main["title"]).strip(),
                names=tuple(
                    sorted(
                        (lang, str(t["title"]).strip())
                        for lang, t in others.items()
                        if str(t["title"]).strip() != str(main["title"]).strip()
                    )
                ),
                description=_text(main.get("summary"), "summary"),
                descriptions=tuple(
                    sorted((lang, str(t["summary"]).strip()) for lang, t in others.items() if t.get("summary"))
                ),
                topics=("covid-19",) if main.get("status") == "covid" else (),
                status=status,
                links=(("website", link),) if isinstance(link, str) and link.startswith("http") else (),
            )
        )
    return ImportBatch(projects=tuple(projects), issues=tuple(issues))


def _looks_like_code4ro_apps(items: list[Any]) -> bool:
    return all(isinstance(i, Mapping) and {"slug", "lang", "title"} <= i.keys() for i in items)


def _looks_like_organizations(items: list[Any]) -> bool:
    return all(isinstance(i, Mapping) and "name" in i and ("website" in i or "tags" in i) for i in items)


def _looks_like_projects(items: list[Any]) -> bool:
    return all(
        isinstance(i, Mapping) and "name" in i and ("organization_name" in i or "organization" in i) for i in items
    )


def parse_bytes(data: bytes, filename: str, known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse an uploaded directory file, choosing the format from its name and shape."""
    name = Path(filename).name or "the file"
    suffix = Path(filename).suffix.casefold()
    if suffix not in (".yaml", ".yml", ".json"):
        raise DirectoryDataError(f"{name} is not a directory file: use .yaml, .yml or .json.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DirectoryDataError(f"{name} is not UTF-8 text.") from None
    if suffix != ".json":
        return parse_yaml(text)
    try:
        items = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise DirectoryDataError(f"{name} is not valid JSON: {error}.") from None
    if isinstance(items, list) and items and _looks_like_organizations(items):
        return parse_brigade_organizations(items, known)
    if isinstance(items, list) and items and _looks_like_projects(items):
        return parse_project_index(items, known)
    if isinstance(items, list) and items and _looks_like_code4ro_apps(items):
        return parse_code4ro_apps(items)
    if items == []:
        return ImportBatch()
    raise DirectoryDataError(
        f"{name} is neither a brigade-information organizations list (name, website, tags), "
        "a project index (name, organization_name) nor a code4.ro app list (slug, lang, title)."
    )


def load_file(path: str | Path, known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse a directory file on disk (see :func:`parse_bytes`)."""
    path = Path(path)
    if path.suffix.casefold() not in (".yaml", ".yml", ".json"):
        raise DirectoryDataError(f"{path.name} is not a directory file: use .yaml, .yml or .json.")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DirectoryDataError(f"Cannot read {path.name}: {error.strerror or error}.") from None
    return parse_bytes(data, path.name, known)


# ---------------------------------------------------------------------------
# Database values


def _plain_values(record: ChapterRecord | ProjectRecord | SummitRecord) -> dict[str, Any]:
    """Every field of a record as plain lists, dicts and scalars."""
    out: dict[str, Any] = {}
    for spec in fields(record):
        value = getattr(record, spec.name)
        if spec.name in _PAIR_FIELDS:
            value = dict(value)
        elif spec.name == "people":
            value = [{"name": p.name, "role": p.role} if p.role else {"name": p.name} for p in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[spec.name] = value
    return out


def _stated(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


def _chapter_columns(chapter: ChapterRecord) -> dict[str, Any]:
    values = _plain_values(chapter)
    values["social"] = {**values.pop("links"), **values["social"]}
    return values


def _project_columns(project: ProjectRecord) -> dict[str, Any]:
    values = _plain_values(project)
    if values["status"] is None:
        del values["status"]
    return values


def chapter_values(chapter: ChapterRecord) -> dict[str, Any]:
    """The fields a chapter record states, as database column values.

    Empty fields are left out so that importing a sparser source never erases what another
    source said; ``links`` (which has no column) is kept with the ``social`` links.
    """
    return _stated(_chapter_columns(chapter))


def project_values(project: ProjectRecord) -> dict[str, Any]:
    """The fields a project record states, as column values; ``chapter`` is the chapter's key."""
    return _stated(_project_columns(project))


def summit_values(summit: SummitRecord) -> dict[str, Any]:
    """The fields a summit record states, as column values."""
    return _stated(_plain_values(summit))


def _validated(parse: Callable[[Mapping[Any, Any]], _R], values: Mapping[str, Any]) -> _R:
    try:
        return parse(values)
    except _Invalid as problem:
        reason = str(problem)
        raise DirectoryDataError(reason[:1].upper() + reason[1:] + ".") from None


def validate_chapter(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check one chapter's fields by the rules of an import and return all its column values.

    Raises :class:`DirectoryDataError` with a sentence for people when a field is invalid.
    """
    return _chapter_columns(_validated(_chapter, values))


def validate_project(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check one project's fields like :func:`validate_chapter` and return all its column values."""
    return _project_columns(_validated(_project, values))


# ---------------------------------------------------------------------------
# Export


def _local_iso(summit: SummitRecord) -> str | None:
    if summit.starts_at is None:
        return None
    moment = summit.starts_at
    if summit.timezone:
        moment = moment.astimezone(ZoneInfo(summit.timezone)).replace(tzinfo=None)
    spec = "minutes" if moment.second == 0 and moment.microsecond == 0 else "auto"
    return moment.isoformat(timespec=spec)


def _record_dict(record: ChapterRecord | ProjectRecord | SummitRecord) -> dict[str, Any]:
    """One record as plain YAML data, leaving out empty fields."""
    values = _plain_values(record)
    if isinstance(record, SummitRecord):
        values["starts_at"] = _local_iso(record)
    return _stated(values)


def dump_yaml(batch: ImportBatch) -> str:
    """Write a batch in our YAML format, without its issues.

    :func:`parse_yaml` reads it back unchanged when every project's chapter is in the batch.
    """
    document: dict[str, Any] = {"version": FORMAT_VERSION}
    if batch.network is not None:
        document["network"] = dict(batch.network)
    document["chapters"] = [_record_dict(c) for c in batch.chapters]
    document["projects"] = [_record_dict(p) for p in batch.projects]
    document["summits"] = [_record_dict(s) for s in batch.summits]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
