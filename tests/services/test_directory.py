"""The directory service on a real database: seeding, imports, look-ups, edits and history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DEFAULT_SEED_FILE
from bot.directory.service import DirectoryService
from bot.errors import NotFound, UserError
from db.models import ChangeRecord
from tests.conftest import SHARED_DIRECTORY, needs_shared

BRIGADE = SHARED_DIRECTORY / "cfa_brigade-information_organizations.json"
CODE4RO = SHARED_DIRECTORY / "code4romania_code4.ro_apps.json"
PROJECT_INDEX = SHARED_DIRECTORY / "cti_project-index_index-v1_projects_codeforall_members.json"


@pytest.fixture
async def directory(sessions: async_sessionmaker[AsyncSession]) -> DirectoryService:
    service = DirectoryService(sessions)
    await service.load(seed_file=DEFAULT_SEED_FILE)
    return service


async def test_seed_is_loaded_once(directory: DirectoryService, sessions: async_sessionmaker[AsyncSession]) -> None:
    assert {"g0v", "code4romania", "codeando-mexico"} <= set(directory.chapters)
    count = len(directory.chapters)
    again = DirectoryService(sessions)
    await again.load(seed_file=DEFAULT_SEED_FILE)
    assert len(again.chapters) == count


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("g0v", "g0v"),
        ("零時政府", "g0v"),
        ("Code4Romania", "code4romania"),
        ("code4.ro", "code4romania"),
        ("code4romaina", "code4romania"),
        ("codeando mexico", "codeando-mexico"),
        ("TAIWAN", "g0v"),
    ],
)
def test_forgiving_chapter_lookup(directory: DirectoryService, query: str, key: str) -> None:
    assert directory.find_chapter(query).key == key


def test_unknown_chapter_suggests(directory: DirectoryService) -> None:
    with pytest.raises(NotFound) as caught:
        directory.find_chapter("Code for Atlantis")
    assert caught.value.suggestions and all("Code for" in s for s in caught.value.suggestions)
    assert "Did you mean" in str(caught.value)
    assert directory.find_chapter("Code for Ramonia").key == "code4romania"


def test_project_search_ranks_and_filters(directory: DirectoryService) -> None:
    found = directory.search_projects("election")
    assert found and found[0].chapter_key == "code4romania"
    assert all(p.chapter_key == "code4romania" for p in directory.search_projects(chapter="code4.ro"))
    with pytest.raises(UserError):
        directory.search_projects(status="nonsense")


@needs_shared(BRIGADE.name)
async def test_brigade_import_is_idempotent_and_merges_with_the_seed(directory: DirectoryService) -> None:
    seed_tiers = {key: chapter.tier for key, chapter in directory.chapters.items()}
    first = await directory.import_file(BRIGADE, actor_name="test")
    assert first.created > 100
    # The seed states every tier it knows, and the seed wins; the file's other partners join as it tags them.
    assert {key: directory.chapters[key].tier for key in seed_tiers} == seed_tiers
    joined = {c.key for c in directory.chapters.values() if c.tier == "governing" and c.key not in seed_tiers}
    assert joined == {
        "code-for-canada",
        "code-for-japan",
        "code-for-nl",
        "codigo-para-la-ciudad-de-mexico",
        "openup",
        "slashroots-foundation",
    }
    assert directory.find_chapter("Code for Romania").key == "code4romania"
    assert directory.find_chapter("g0v.tw").key == "g0v"
    second = await directory.import_file(BRIGADE, actor_name="test")
    assert (second.created, second.updated) == (0, 0)


@needs_shared(BRIGADE.name, PROJECT_INDEX.name)
async def test_project_index_import(directory: DirectoryService) -> None:
    await directory.import_file(BRIGADE, actor_name="test")
    report = await directory.import_file(PROJECT_INDEX, actor_name="test")
    assert report.created > 500
    again = await directory.import_file(PROJECT_INDEX, actor_name="test")
    assert (again.created, again.updated) == (0, 0)


async def test_edits_are_validated_and_recorded(
    directory: DirectoryService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await directory.edit_chapter("g0v", {"city": "Taipei City"}, actor_id=5, actor_name="ana")
    assert directory.chapters["g0v"].city == "Taipei City"
    history = await directory.history("chapter", "g0v")
    assert history[0].actor_name == "ana" and history[0].changes["city"][1] == "Taipei City"
    with pytest.raises(UserError):
        await directory.edit_chapter("g0v", {"website": "not a url"}, actor_id=5, actor_name="ana")
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(ChangeRecord))
    with pytest.raises(UserError):
        await directory.edit_project(
            None, {"key": "g0v/x", "name": "X", "chapter": "nope"}, actor_id=5, actor_name="ana"
        )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChangeRecord)) == before


async def test_export_round_trips(directory: DirectoryService) -> None:
    from bot.directory import formats as directory_io

    batch = directory_io.parse_yaml(await directory.export_yaml())
    assert not batch.issues
    assert {c.key for c in batch.chapters} == set(directory.chapters)


async def test_projects_of_unknown_chapters_are_reported_and_the_rest_imports(directory: DirectoryService) -> None:
    from bot.directory import formats as directory_io

    batch = directory_io.parse_yaml(
        "projects:\n"
        "  - {key: g0v/new-tool, chapter: g0v, name: New tool}\n"
        "  - {key: nowhere/orphan, chapter: nowhere, name: Orphan}\n"
    )
    report = await directory.import_batch(batch, actor_name="test")
    assert report.created == 1
    assert [(issue.key, issue.reason()) for issue in report.issues] == [("nowhere/orphan", "unknown chapter “nowhere”")]
    assert "g0v/new-tool" in directory.projects


@needs_shared(CODE4RO.name)
async def test_code4ro_apps_are_shown_in_romanian(directory: DirectoryService) -> None:
    await directory.import_file(CODE4RO, actor_name="test")
    anabi = directory.find_project("ANABI")
    assert anabi.chapter_key == "code4romania"
    assert anabi.localised_description("ro") != anabi.localised_description("en-US")


async def test_chapter_cards_are_rendered_once_per_language_until_the_directory_changes(
    directory: DirectoryService,
) -> None:
    from bot.ui.directory import ChapterCards

    cards = ChapterCards(directory)
    g0v = directory.find_chapter("g0v")
    first = cards.card(g0v, "en-US")
    assert cards.card(g0v, "en-US") is first
    assert cards.card(g0v, "zh-TW") is not first
    assert cards.card(directory.find_chapter("臺灣"), "en-US") is first
    await directory.edit_chapter("g0v", {"city": "Taipei City"}, actor_id=5, actor_name="ana")
    changed = cards.card(directory.find_chapter("g0v"), "en-US")
    assert changed is not first
    assert any("Taipei City" in field.value for field in changed.fields if field.value)


def test_country_names_find_chapters_and_a_country_of_several_chapters_is_suggested(
    directory: DirectoryService,
) -> None:
    assert directory.find_chapter("România").key == "code4romania"
    assert directory.find_chapter("Rumunia").key == "code4romania"
    with pytest.raises(NotFound) as missing:
        directory.find_chapter("%%%")
    assert "/chapters" in missing.value.translated("en-US")


async def test_a_large_refresh_keeps_what_it_read_out_of_full_collections(directory: DirectoryService) -> None:
    import gc

    from bot.directory.records import ImportBatch, ProjectRecord
    from bot.directory.service import KEEP_AT

    few = ImportBatch(projects=[ProjectRecord(key="g0v/one-more", chapter="g0v", name="One more")])
    await directory.import_batch(few, actor_name="test")
    one = directory.projects["g0v/one-more"]
    assert any(o is one for o in gc.get_objects())  # a small change stays with the collector
    many = [ProjectRecord(key=f"g0v/frozen-{n}", chapter="g0v", name=f"Frozen {n}") for n in range(KEEP_AT)]
    await directory.import_batch(ImportBatch(projects=many), actor_name="test")
    kept = directory.projects["g0v/frozen-0"]
    tracked = {id(o) for o in gc.get_objects()}
    assert id(kept) not in tracked and id(directory.projects["g0v/frozen-199"]) not in tracked
    assert directory.find_project("Frozen 7").key == "g0v/frozen-7"
