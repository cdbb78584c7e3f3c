"""Imports on a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL): bad records are reported while the
rest imports, curated fields win over external sources, and the network block survives an export."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DEFAULT_SEED_FILE
from bot.directory import formats
from bot.directory.service import DirectoryService
from tests.conftest import SHARED

BRIGADE = SHARED / "data" / "directory" / "cfa_brigade-information_organizations.json"


@pytest.fixture
async def directory(sessions: async_sessionmaker[AsyncSession]) -> DirectoryService:
    service = DirectoryService(sessions)
    await service.load(seed_file=DEFAULT_SEED_FILE)
    return service


def _organizations(*records: dict[str, object]) -> bytes:
    return json.dumps(list(records)).encode()


async def test_a_1500_character_name_is_reported_and_the_good_records_import(directory: DirectoryService) -> None:
    text = (
        "chapters:\n"
        "  - {key: first-good, name: First Good, country: RO}\n"
        f"  - {{key: too-long, name: {'n' * 1500}}}\n"
        "  - {key: second-good, name: Second Good}\n"
        "projects:\n"
        f"  - {{key: first-good/p, chapter: first-good, name: P, description: ok, topics: ['{'t' * 1500}']}}\n"
        "  - {key: first-good/q, chapter: first-good, name: Q}\n"
    )
    report = await directory.import_batch(formats.parse_yaml(text), actor_name="test")
    assert {"first-good", "second-good"} <= set(directory.chapters)
    assert "too-long" not in directory.chapters
    assert "first-good/q" in directory.projects and "first-good/p" not in directory.projects
    assert [(i.key, i.reason()) for i in report.issues] == [
        ("too-long", "name is too long (limit: 200, given: 1500)"),
        ("first-good/p", "each item of topics can be at most 100 characters (given: 1500)"),
    ]
    assert report.summary().endswith("2 skipped")


async def test_an_external_import_does_not_rename_curated_chapters(directory: DirectoryService) -> None:
    g0v = directory.chapters["g0v"]
    organization = {
        "name": "g0v.tw",
        "website": "https://g0v.tw",
        "tags": ["Code for All"],
        "location": {"city": "Taipei", "country": "Taiwan", "coordinates": {"latitude": 25.03, "longitude": 121.56}},
    }
    batch = formats.parse_bytes(_organizations(organization), "organizations.json")
    await directory.import_batch(batch, actor_name="importer")
    after = directory.chapters["g0v"]
    assert after.name == g0v.name == "g0v (Code for Taiwan)"
    assert "g0v.tw" in after.aliases
    assert set(g0v.aliases) <= set(after.aliases)
    assert (after.latitude, after.longitude) == (25.03, 121.56)  # the seed says nothing there: the import fills it
    assert after.website == g0v.website and after.tier == g0v.tier
    assert directory.find_chapter("g0v.tw").key == "g0v"


async def test_an_organisers_edit_wins_over_a_later_import(directory: DirectoryService) -> None:
    created = {"name": "Code for Testland", "website": "https://testland.example", "tags": [], "city": "Old Town"}
    await directory.import_batch(formats.parse_bytes(_organizations(created), "o.json"), actor_name="importer")
    assert directory.chapters["code-for-testland"].city == "Old Town"
    await directory.edit_chapter("code-for-testland", {"city": "New Town"}, actor_id=1, actor_name="ana")
    again = {**created, "city": "Elsewhere", "rss": "https://testland.example/feed"}
    await directory.import_batch(formats.parse_bytes(_organizations(again), "o.json"), actor_name="importer")
    chapter = directory.chapters["code-for-testland"]
    assert chapter.city == "New Town"
    assert chapter.feed_url == "https://testland.example/feed"


@pytest.mark.skipif(not BRIGADE.is_file(), reason=f"needs the shared data folder: {BRIGADE} is missing")
async def test_the_brigade_file_keeps_every_seed_name(directory: DirectoryService) -> None:
    names = {key: chapter.name for key, chapter in directory.chapters.items()}
    await directory.import_file(BRIGADE, actor_name="importer")
    assert {key: directory.chapters[key].name for key in names} == names
    assert "g0v.tw" in directory.chapters["g0v"].aliases


async def test_the_network_block_is_kept_and_exported(
    directory: DirectoryService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    seed = formats.load_file(DEFAULT_SEED_FILE)
    assert seed.network is not None and seed.network["feed_url"] == "https://medium.com/feed/code-for-all"
    exported = await directory.export_batch()
    assert exported.network == seed.network
    restarted = DirectoryService(sessions)
    await restarted.load()
    assert restarted.network == seed.network
    again = formats.parse_yaml(formats.dump_yaml(exported))
    assert again.network == seed.network
    assert again.chapters == exported.chapters and again.projects == exported.projects
    assert again.summits == exported.summits
