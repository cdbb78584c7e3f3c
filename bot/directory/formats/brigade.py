"""Code for America's brigade-information ``organizations.json``: the ecosystem's list of organisations."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from bot.directory.formats.common import not_a_record, ordered, unique
from bot.directory.records import ChapterRecord, ImportBatch, ImportIssue, build, derive_key, host_of, issue, slugify
from bot.directory.validators import SHOWN, problem, repeated, with_scheme
from bot.i18n import N_

SECTION = "organizations"
GOVERNING_TAG = "Code for All"
AFFILIATE_TAG = "Code for All Affiliate"

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
_CODE_FOR = re.compile(r"^code\s+for\s+([^\W_]+(?:\s+[^\W_]+)*)$", re.IGNORECASE)


def _plain(text: object) -> str:
    if not isinstance(text, str):
        return ""
    ascii_text = unicodedata.normalize("NFKD", text[:SHOWN]).encode("ascii", "ignore").decode()
    return " ".join(ascii_text.casefold().split())


def _name_variants(name: str, host: str | None, previous: Iterable[str]) -> list[str]:
    variants = [*previous]
    match = _CODE_FOR.match(name)
    if match:
        variants.append("Code4" + "".join(match.group(1).split()))
    accentless = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    if accentless.strip() and accentless != name:
        variants.append(accentless)
    if host:
        variants.append(host)
    return list(dict.fromkeys(v for v in variants if v and v != name))


def _tier(tags: object) -> str:
    tags = tags if isinstance(tags, list) else []
    if AFFILIATE_TAG in tags:
        return "affiliate"
    return "governing" if GOVERNING_TAG in tags else "member"


def _mapping(value: object) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _fields(record: Mapping[Any, Any], key: str, name: str, host: str | None, previous: list[str]) -> dict[str, Any]:
    """The organisation in our chapter fields (see `ChapterRecord`), still to be validated."""
    location = _mapping(record.get("location"))
    country, region = _COUNTRIES.get(_plain(location.get("country")), (None, None))
    city = location.get("city")
    if city is None and not location and isinstance(record.get("city"), str):
        city = record["city"].split(",")[0]
    coordinates = _mapping(location.get("coordinates"))
    social = {
        str(k).casefold(): value
        for k, value in _mapping(record.get("social_profiles")).items()
        if isinstance(value, str) and value.strip()
    }
    projects = with_scheme(record.get("projects_list_url"))
    return {
        "key": key,
        "name": name,
        "aliases": _name_variants(name, host, previous),
        "country": country,
        "city": city,
        "region": region or _CONTINENTS.get(_plain(location.get("continent"))),
        "tier": _tier(record.get("tags")),
        "website": with_scheme(record.get("website")),
        "feed_url": with_scheme(record.get("rss")),
        "events_url": with_scheme(record.get("events_url")),
        "social": social,
        "links": {"projects": projects} if projects else None,
        "tags": record.get("tags"),
        "latitude": record.get("latitude") or coordinates.get("latitude"),
        "longitude": record.get("longitude") or coordinates.get("longitude"),
    }


def parse_organizations(data: list[Any], known: Mapping[str, str] | None = None) -> ImportBatch:
    """Parse brigade-information ``organizations.json``: every organisation, tiered by its tags.

    ``Code for All Affiliate`` makes an affiliate, ``Code for All`` a governing partner, anything else a plain
    ``member``. Keys are slugs of the name unless ``known`` (see `alias_index`) maps its name, a previous name or
    its website host (when no other organisation in the file shares it) to a key. A bad optional field is left
    out and reported; a record without a usable name is skipped.
    """
    known = known or {}
    hosts = Counter(
        host_of(r.get("website")) for r in data if isinstance(r, Mapping) and isinstance(r.get("website"), str)
    )
    shared_hosts = {host for host, count in hosts.items() if host and count > 1}
    issues: list[ImportIssue] = []
    chapters: list[tuple[int, ChapterRecord]] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, Mapping):
            issues.append(not_a_record(SECTION, index, raw))
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            issues.append(issue(index, None, SECTION, problem(N_("{field} is required"), field="name")))
            continue
        website = raw.get("website")
        host = host_of(website) if isinstance(website, str) else None
        host = None if host in shared_hosts else host
        previous_raw = raw.get("previous_names")
        previous_list = previous_raw if isinstance(previous_raw, list) else []
        previous = [p.strip() for p in previous_list if isinstance(p, str) and p.strip()]
        slugs = [slugify(c) for c in (name, host, *previous) if c]
        key = next((known[s] for s in slugs if s in known), derive_key(name))
        chapter, problems = build(ChapterRecord, _fields(raw, key, name.strip(), host, previous), lenient=True)
        problems += tuple(repeated(raw))
        if problems:
            issues.append(issue(index, key[:SHOWN], SECTION, *problems, skipped=chapter is None))
        if chapter is not None:
            chapters.append((index, chapter))
    return ImportBatch(chapters=tuple(unique(SECTION, chapters, issues)), issues=ordered(issues))


def looks_like(items: list[Any]) -> bool:
    """Whether a JSON list is brigade-information organisations (name, and website or tags)."""
    return all(isinstance(i, Mapping) and "name" in i and ("website" in i or "tags" in i) for i in items)
