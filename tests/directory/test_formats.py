"""Tests for reading and writing directory files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.directory import formats as directory_io
from bot.directory.formats import dump_yaml, load_file, parse_bytes, parse_yaml
from bot.directory.formats.brigade import parse_organizations as parse_brigade_organizations
from bot.directory.formats.project_index import parse_project_index
from bot.directory.records import (
    ChapterRecord,
    DirectoryDataError,
    ImportBatch,
    ProjectRecord,
    alias_index,
    columns,
    slugify,
    stated_columns,
    validate,
)
from bot.errors import UserError
from tests.conftest import SHARED_DIRECTORY, needs_shared

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "directory.yaml"
BRIGADE = SHARED_DIRECTORY / "cfa_brigade-information_organizations.json"
PROJECT_INDEX = SHARED_DIRECTORY / "cti_project-index_index-v1_projects_codeforall_members.json"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def seed() -> ImportBatch:
    return load_file(SEED)


@pytest.fixture(scope="module")
def brigade() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(BRIGADE.read_text(encoding="utf-8"))
    return data


def _chapter(batch: ImportBatch, key: str) -> ChapterRecord:
    return next(c for c in batch.chapters if c.key == key)


def _project_names(batch: ImportBatch, chapter: str) -> set[str]:
    return {p.name for p in batch.projects if p.chapter == chapter}


def test_seed_parses_without_issues(seed: ImportBatch) -> None:
    assert seed.issues == ()
    assert len(seed.chapters) >= 10
    assert len(seed.projects) >= 20


def test_seed_has_governing_partners_from_the_welcome_post(seed: ImportBatch) -> None:
    g0v = _chapter(seed, "g0v")
    assert g0v.tier == "governing"
    assert (g0v.country, g0v.founded, g0v.website) == ("TW", 2012, "https://g0v.tw")
    assert {"g0v.tw", "Code for Taiwan", "零時政府"} <= set(g0v.aliases)
    assert "200 active members" in g0v.facts
    romania = _chapter(seed, "code4romania")
    assert romania.tier == "governing"
    assert {"Code4Romania", "code4.ro"} <= set(romania.aliases)
    assert (romania.country, romania.founded) == ("RO", 2015)
    assert "17-person team" in romania.facts


def test_seed_has_projects_and_summits(seed: ImportBatch) -> None:
    assert {"GoToVote", "Dodgy Doctors", "Grano"} <= _project_names(seed, "code-for-africa")
    assert {"Retos Públicos", "Red México Abierto"} <= _project_names(seed, "codeando-mexico")
    assert "Living Wage Calculator" in _project_names(seed, "code-for-south-africa")
    years = {s.key: s.year for s in seed.summits}
    assert years["berlin-2014"] == 2014
    assert years["taipei-2017"] == 2017
    assert years["bucharest-2018"] == 2018
    berlin = next(s for s in seed.summits if s.key == "berlin-2014")
    assert berlin.country == "DE"
    assert berlin.timezone == "Europe/Berlin"
    assert "75 people from almost 20 countries" in berlin.facts


def test_seed_network_block(seed: ImportBatch) -> None:
    assert seed.network is not None
    assert seed.network["founded"] == 2013
    assert seed.network["values"] == ["democracy", "support", "collaboration", "openness"]
    assert set(seed.network["founding_members"]) <= {c.key for c in seed.chapters}


def test_seed_round_trips(seed: ImportBatch) -> None:
    assert parse_yaml(dump_yaml(seed)) == seed


@needs_shared(BRIGADE.name)
def test_brigade_file_tiers(brigade: list[dict[str, Any]]) -> None:
    batch = parse_brigade_organizations(brigade)
    assert len(batch.chapters) == len(brigade) == 221
    assert batch.issues == ()
    network = {c.name for c in batch.chapters if "Code for All" in c.tags}
    assert len(network) == 18
    governing = {c.name for c in batch.chapters if c.tier == "governing"}
    affiliates = {c.name for c in batch.chapters if c.tier == "affiliate"}
    assert affiliates == {"Code for Ghana", "Code for Kenya", "Code for Nigeria"}
    assert governing == network - affiliates
    assert len(governing) == 15
    assert {c.tier for c in batch.chapters if c.name not in network} == {"member"}


@needs_shared(BRIGADE.name)
def test_brigade_fields(brigade: list[dict[str, Any]]) -> None:
    chapters = {c.key: c for c in parse_brigade_organizations(brigade).chapters}
    romania = chapters["code-for-romania"]
    assert (romania.country, romania.city, romania.region) == ("RO", "Bucharest", "Europe")
    assert "Code4Romania" in romania.aliases
    assert "code4.ro" not in romania.aliases  # its Cluj and Iasi chapters share the website
    assert romania.latitude == pytest.approx(44.439663)
    assert "code4.ro" not in chapters["code-for-romania-cluj-chapter"].aliases
    assert chapters["g0v-tw"].country == "TW"
    assert chapters["codeando-mexico"].region == "Latin America & Caribbean"
    assert chapters["slashroots-foundation"].region == "Latin America & Caribbean"
    assert chapters["code-for-australia"].region == "Oceania"
    canada = chapters["code-for-canada"]
    assert dict(canada.social)["twitter"] == "@code4ca"
    assert canada.feed_url == "https://medium.com/code-for-canada"
    assert chapters["code-for-okc"].website == "https://codeforokc.org/"


@needs_shared(BRIGADE.name)
def test_brigade_keys_follow_known_aliases(seed: ImportBatch, brigade: list[dict[str, Any]]) -> None:
    keys = {c.name: c.key for c in parse_brigade_organizations(brigade, alias_index(seed.chapters)).chapters}
    assert keys["g0v.tw"] == "g0v"
    assert keys["Code for Romania"] == "code4romania"
    assert keys["Code for Romania: Cluj Chapter"] == "code-for-romania-cluj-chapter"
    assert len(set(keys.values())) == len(keys)


@needs_shared(BRIGADE.name)
def test_parsing_twice_gives_equal_batches(brigade: list[dict[str, Any]]) -> None:
    assert parse_brigade_organizations(brigade) == parse_brigade_organizations(brigade)
    assert load_file(SEED) == load_file(SEED)


@needs_shared(BRIGADE.name)
def test_brigade_batch_round_trips_through_yaml(brigade: list[dict[str, Any]]) -> None:
    batch = parse_brigade_organizations(brigade)
    assert parse_yaml(dump_yaml(batch)).chapters == batch.chapters


@needs_shared(PROJECT_INDEX.name)
def test_project_index(seed: ImportBatch) -> None:
    raw = json.loads(PROJECT_INDEX.read_text(encoding="utf-8"))
    batch = load_file(PROJECT_INDEX, alias_index(seed.chapters))
    assert len(batch.projects) + len(batch.issues) == len(raw)
    assert all("duplicate key" in issue.reason() for issue in batch.issues)
    chapters = {p.chapter for p in batch.projects}
    assert {"g0v", "code4romania", "code-for-africa", "codeando-mexico"} <= chapters
    about = next(p for p in batch.projects if p.key == "code-for-africa/about-us")
    assert about.code_url == "https://github.com/CodeForAfrica/About-Us"
    assert all(dict(p.links).get("website", "https://").startswith("http") for p in batch.projects)


def test_project_index_shape_variants() -> None:
    batch = parse_project_index(
        [
            {
                "name": "Vote Monitor",
                "organization": "Code for Romania",
                "git_url": "git://github.com/c/vm.git",
            },
            {"name": "Site", "organization_name": "g0v.tw", "link_url": "g0v.tw", "status": "archived"},
            {"name": "", "organization_name": "g0v.tw"},
        ],
        {"code-for-romania": "code4romania"},
    )
    assert [p.key for p in batch.projects] == ["code4romania/vote-monitor", "g0v-tw/site"]
    assert batch.projects[0].code_url == "https://github.com/c/vm"
    assert batch.projects[1].links == (("website", "https://g0v.tw"),)
    assert batch.projects[1].status == "archived"
    assert [(i.index, i.reason()) for i in batch.issues] == [(2, "name is required")]


BAD = """
version: 1
chapters:
  - {key: good, name: Good Chapter, website: https://good.example}
  - {key: bad-url, name: Bad URL, website: "ftp://nowhere"}
  - {key: bad-tier, name: Bad Tier, tier: overlord}
  - {key: good, name: Duplicate}
  - {key: Not A Slug, name: Bad Key}
  - {key: old, name: Old, founded: 1850}
  - just text
projects:
  - {key: p1, chapter: good, name: Project One, status: active}
  - {key: p2, chapter: missing, name: Orphan}
  - {key: p3, chapter: good, name: Bad Status, status: finished}
summits:
  - {key: s1, name: Summit, timezone: Europe/Bucharest, starts_at: "2018-11-08T09:00"}
  - {key: s2, name: Nowhere, timezone: Mars/Olympus}
  - {key: s3, name: No Zone, starts_at: "2018-11-08T09:00"}
"""


def test_bad_records_become_issues_and_the_rest_imports() -> None:
    batch = parse_yaml(BAD)
    assert [c.key for c in batch.chapters] == ["good"]
    assert [p.key for p in batch.projects] == ["p1", "p2"]  # p2's chapter is checked when importing
    assert [s.key for s in batch.summits] == ["s1"]
    found = {(i.section, i.index): i for i in batch.issues}
    assert set(found) == {
        ("chapters", 1),
        ("chapters", 2),
        ("chapters", 3),
        ("chapters", 4),
        ("chapters", 5),
        ("chapters", 6),
        ("projects", 2),
        ("summits", 1),
        ("summits", 2),
    }
    assert "http(s)" in found["chapters", 1].reason()
    assert found["chapters", 1].key == "bad-url"
    assert "overlord" in found["chapters", 2].reason()
    assert "duplicate key good (first used by record 1)" in found["chapters", 3].reason()
    assert "plausible year" in found["chapters", 5].reason()
    assert "IANA" in found["summits", 1].reason()
    assert "time zone" in found["summits", 2].reason()
    assert str(found["summits", 1]).startswith("summits #2 (s2): ")
    summit = batch.summits[0]
    assert summit.starts_at is not None
    assert summit.starts_at.utcoffset() is not None
    assert summit.year == 2018


def test_summit_time_round_trips() -> None:
    batch = parse_yaml(BAD)
    again = parse_yaml(dump_yaml(ImportBatch(chapters=batch.chapters, summits=batch.summits)))
    assert again.summits == batch.summits
    assert "starts_at: 2018-11-08T09:00\n" in dump_yaml(batch)


def test_round_trip_of_a_full_record() -> None:
    chapter = ChapterRecord(
        key="x",
        name="X",
        aliases=("Ex",),
        names=(("ro", "Ics"),),
        country="RO",
        region="Europe",
        tier="affiliate",
        founded=2015,
        social=(("twitter", "@x"),),
        links=(("projects", "https://github.com/x"),),
        tags=("Code for All",),
        latitude=1.5,
        longitude=-2.25,
        active=False,
    )
    project = ProjectRecord(key="x/p", chapter="x", name="P", topics=("a",), status="idea")
    batch = ImportBatch(chapters=(chapter,), projects=(project,), network={"name": "N"}, curated=True)
    assert parse_yaml(dump_yaml(batch)) == batch


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match="must be a mapping"):
        parse_yaml("- a\n- b\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_yaml("chapters: [unclosed")
    with pytest.raises(ValueError, match="version"):
        parse_yaml("version: 2\n")
    assert parse_yaml("") == ImportBatch(curated=True)


def test_load_file_rejects_unknown_files(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match="neither a brigade-information"):
        load_file(other)
    text = tmp_path / "notes.txt"
    text.write_text("hi", encoding="utf-8")
    with pytest.raises(ValueError, match="not a directory file"):
        load_file(text)
    with pytest.raises(ValueError, match="Cannot read"):
        load_file(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Code for Romania", "code-for-romania"),
        ("g0v.tw", "g0v-tw"),
        ("Codeando México", "codeando-mexico"),
        ("Jakub Górnicki", "jakub-gornicki"),
        ("Łódź", "lodz"),
        ("Straße", "strasse"),
    ],
)
def test_slugify_examples(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugify_cjk_fallback_is_stable() -> None:
    slug = slugify("零時政府")
    assert re.fullmatch(r"x-[0-9a-f]{10}", slug)
    assert slug == slugify(" 零時政府 ")
    assert slug != slugify("開放政府")


@given(st.text())
def test_slugify_is_a_slug_and_idempotent(text: str) -> None:
    slug = slugify(text)
    assert SLUG.match(slug)
    assert slugify(slug) == slug


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)
field_names = st.sampled_from(
    [
        "key",
        "name",
        "tier",
        "region",
        "website",
        "country",
        "founded",
        "timezone",
        "starts_at",
        "chapter",
        "x",
    ]
)
records = st.dictionaries(field_names, yaml_values, max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["chapters", "projects", "summits", "network", "extra"]),
        st.one_of(st.lists(records, max_size=4), yaml_values),
        max_size=4,
    )
)
def test_parse_yaml_never_raises_on_mappings(document: dict[str, Any]) -> None:
    batch = parse_yaml(yaml.safe_dump(document, allow_unicode=True))
    assert isinstance(batch, ImportBatch)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#, \n\t0129.@%?")), max_size=60),
        st.text(max_size=60),
    )
)
def test_parse_yaml_only_raises_value_error(text: str) -> None:
    try:
        parse_yaml(text)
    except ValueError as error:
        assert str(error)


def test_parse_bytes_dispatches_by_name_and_shape() -> None:
    organizations = json.dumps([{"name": "Code for Romania", "website": "http://code4.ro/", "tags": ["Code for All"]}])
    batch = parse_bytes(organizations.encode(), "organizations.json")
    assert [(c.key, c.tier) for c in batch.chapters] == [("code-for-romania", "governing")]
    seed_bytes = SEED.read_bytes()
    assert parse_bytes(seed_bytes, "directory.yml") == load_file(SEED)
    with pytest.raises(DirectoryDataError, match="not UTF-8"):
        parse_bytes(b"\xff\xfe\x00", "x.yaml")
    with pytest.raises(UserError):
        parse_bytes(b"[1, 2]", "x.json")


def test_database_values(seed: ImportBatch) -> None:
    g0v = stated_columns(_chapter(seed, "g0v"))
    assert g0v["names"] == {"zh-TW": "零時政府"}
    assert g0v["facts"][0] == "200 active members"
    assert "feed_url" not in g0v
    assert "links" not in g0v
    romania = stated_columns(_chapter(seed, "code4romania"))
    assert romania["people"] == [{"name": "Bogdan Ivanel", "role": "managing director"}]
    linked = stated_columns(ChapterRecord(key="x", name="X", links=(("projects", "https://github.com/x"),)))
    assert linked["social"] == {"projects": "https://github.com/x"}
    project = stated_columns(next(p for p in seed.projects if p.name == "GoToVote"))
    assert project["chapter"] == "code-for-africa"
    assert "status" not in project
    berlin = stated_columns(next(s for s in seed.summits if s.key == "berlin-2014"))
    assert berlin["year"] == 2014
    assert "starts_at" not in berlin


def test_validate_forms() -> None:
    values = columns(
        validate(ChapterRecord, {"key": "new-one", "name": " New One ", "website": None, "aliases": ["N1"]})
    )
    assert values["name"] == "New One"
    assert values["website"] is None
    assert values["aliases"] == ["N1"]
    with pytest.raises(DirectoryDataError) as refused:
        validate(ChapterRecord, {"key": "x", "name": "X", "website": "nope"})
    assert refused.value.translated(None) == "Website 'nope' is not an http(s) address with a host."
    project = columns(validate(ProjectRecord, {"key": "x/p", "chapter": "x", "name": "P", "status": None}))
    assert "status" not in project
    with pytest.raises(UserError, match="status"):
        validate(ProjectRecord, {"key": "x/p", "chapter": "x", "name": "P", "status": "done"})


CODE4RO_APPS = SHARED_DIRECTORY / "code4romania_code4.ro_apps.json"


@needs_shared(CODE4RO_APPS.name)
def test_code4ro_apps_become_bilingual_projects() -> None:
    batch = directory_io.load_file(CODE4RO_APPS)
    assert not batch.issues
    assert len(batch.projects) == 20
    anabi = next(p for p in batch.projects if p.key == "code4romania/anabi")
    assert anabi.chapter == "code4romania" and anabi.status == "active"
    romanian = dict(anabi.descriptions)["ro"]
    assert romanian and romanian != anabi.description
    assert directory_io.parse_yaml(directory_io.dump_yaml(batch)).projects == batch.projects


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=300))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=10,
)
external_fields = st.sampled_from(
    [
        "name", "website", "tags", "city", "location", "rss", "events_url", "projects_list_url", "social_profiles",
        "latitude", "previous_names", "organization_name", "description", "topics", "status", "link_url", "code_url",
        "git_url", "slug", "lang", "title", "summary", "link",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            {"name": "Code for X", "website": "https://x.org"},
            {"name": "P", "organization_name": "Org"},
            {"slug": "s", "lang": "en", "title": "T"},
        ]
    ),
    st.lists(st.dictionaries(external_fields, json_values, max_size=8), max_size=5),
)
def test_external_files_never_raise_and_keep_records_within_limits(
    base: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    data = json.dumps([base, *({**base, **r} for r in records)]).encode()
    try:
        batch = parse_bytes(data, "external.json")
    except DirectoryDataError:
        return
    for chapter in batch.chapters:
        assert len(chapter.key) <= 100 and len(chapter.name) <= 200
        assert all(len(alias) <= 200 for alias in chapter.aliases)
    for project in batch.projects:
        assert len(project.key) <= 250 and len(project.name) <= 200 and len(project.chapter) <= 100
        assert all(len(topic) <= 100 for topic in project.topics)
