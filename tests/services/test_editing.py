"""Versioned edits, refused duplicates, removal and proposals on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.config import DEFAULT_SEED_FILE
from bot.directory.authority import Right, directory_right
from bot.directory.proposals import ProposalService
from bot.directory.service import Conflict, DirectoryService
from bot.errors import NotFound, UserError

ANA = {"actor_id": 5, "actor_name": "ana"}
BOB = {"actor_id": 6, "actor_name": "bob"}


@pytest.fixture
async def directory(sessions: async_sessionmaker[AsyncSession]) -> DirectoryService:
    service = DirectoryService(sessions)
    await service.load(seed_file=DEFAULT_SEED_FILE)
    return service


@pytest.fixture
def proposals(sessions: async_sessionmaker[AsyncSession], directory: DirectoryService) -> ProposalService:
    return ProposalService(sessions, directory, FakeClock())


def test_the_home_server_edits_others_propose_and_no_home_means_read_only() -> None:
    assert directory_right(1, 1) is Right.EDIT
    assert directory_right(1, 2) is Right.PROPOSE
    assert directory_right(None, 1) is None


async def test_an_edit_applies_only_the_fields_changed_and_bumps_the_version(directory: DirectoryService) -> None:
    g0v = directory.chapters["g0v"]
    shown = {"description": g0v.description, "website": g0v.website}
    # Bob changes the website after Ana's form opened; Ana only touches the description.
    await directory.edit_chapter("g0v", {"website": "https://g0v.tw/en"}, version=g0v.version, shown=shown, **BOB)
    saved = await directory.edit_chapter(
        "g0v", {"description": "New text", "website": g0v.website}, version=g0v.version, shown=shown, **ANA
    )
    assert (saved.description, saved.website) == ("New text", "https://g0v.tw/en")
    assert saved.version == g0v.version + 2
    latest = (await directory.history("chapter", "g0v"))[0]
    assert (latest.actor_name, sorted(latest.changes)) == ("ana", ["description"])


async def test_a_field_changed_meanwhile_is_a_conflict_that_writes_nothing(directory: DirectoryService) -> None:
    g0v = directory.chapters["g0v"]
    shown = {"description": g0v.description}
    await directory.edit_chapter("g0v", {"description": "Bob's text"}, version=g0v.version, shown=shown, **BOB)
    with pytest.raises(Conflict) as raised:
        await directory.edit_chapter("g0v", {"description": "Ana's text"}, version=g0v.version, shown=shown, **ANA)
    assert "Bob's text" in raised.value.translated("en")
    assert directory.chapters["g0v"].description == "Bob's text"
    # The same change made by both is not a conflict.
    same = await directory.edit_chapter("g0v", {"description": "Bob's text"}, version=g0v.version, shown=shown, **ANA)
    assert same.description == "Bob's text"


async def test_names_and_aliases_of_another_record_are_refused(directory: DirectoryService) -> None:
    new = {"key": "code-for-romania", "name": "code for romania", "tier": "member"}
    with pytest.raises(UserError, match="already names the chapter Code for Romania"):
        await directory.edit_chapter(None, new, **ANA)
    with pytest.raises(UserError, match="already names the chapter g0v"):
        await directory.edit_chapter("code4romania", {"aliases": ["零時政府"]}, **ANA)
    project = directory.projects["code4romania-election-monitoring"]
    twin = {"key": "code4romania/twin", "name": project.name.upper(), "chapter": "code4romania"}
    with pytest.raises(UserError, match="already has the project"):
        await directory.edit_project(None, twin, **ANA)
    assert "code-for-romania" not in directory.chapters and "code4romania/twin" not in directory.projects


async def test_removing_a_chapter_removes_its_projects_and_keeps_them_in_the_history(
    directory: DirectoryService,
) -> None:
    keys = [p.key for p in directory.chapter_projects("code4romania")]
    assert keys
    assert await directory.remove_chapter("code4romania", **ANA) == len(keys)
    assert "code4romania" not in directory.chapters
    assert not set(keys) & set(directory.projects)
    removed = (await directory.history("project", keys[0]))[0]
    assert removed.action == "remove" and removed.changes["chapter_key"] == ["code4romania", None]
    with pytest.raises(NotFound):
        await directory.remove_chapter("code4romania", **ANA)


async def test_a_proposal_is_checked_when_made_and_applied_once_as_its_proposers_edit(
    directory: DirectoryService, proposals: ProposalService
) -> None:
    poland = directory.find_chapter("Code for Poland")
    shown = {"website": poland.website, "description": poland.description}
    where = {"guild_id": 2, "guild_name": "Warsaw", "proposer_id": 9, "proposer_name": "piotr"}
    with pytest.raises(UserError, match="Website 'not a url'"):
        await proposals.propose(
            "chapter", poland.key, {"website": "not a url"}, version=poland.version, shown=shown, **where
        )
    with pytest.raises(UserError, match="nothing to propose"):
        await proposals.propose("chapter", poland.key, dict(shown), version=poland.version, shown=shown, **where)
    made = await proposals.propose(
        "chapter", poland.key, {**shown, "description": "From Warsaw"}, version=poland.version, shown=shown, **where
    )
    assert made.changed() == {"description": "From Warsaw"}
    assert [p.id for p in await proposals.pending()] == [made.id]
    assert directory.chapters[poland.key].description == poland.description
    saved = await proposals.approve(made.id, actor_id=1, actor_name="oana")
    assert saved.description == "From Warsaw"
    assert (await directory.history("chapter", poland.key))[0].actor_name == "piotr (Warsaw), approved by oana"
    with pytest.raises(UserError, match="already approved"):
        await proposals.approve(made.id, actor_id=1, actor_name="oana")
    with pytest.raises(UserError, match="already approved"):
        await proposals.reject(made.id, actor_id=1, actor_name="oana")
    assert await proposals.pending() == []


async def test_a_proposal_overtaken_by_an_edit_stays_pending_and_can_be_rejected(
    directory: DirectoryService, proposals: ProposalService
) -> None:
    g0v = directory.chapters["g0v"]
    shown = {"description": g0v.description}
    where = {"guild_id": 2, "guild_name": "Elsewhere", "proposer_id": 9, "proposer_name": "piotr"}
    made = await proposals.propose(
        "chapter", "g0v", {"description": "Proposed"}, version=g0v.version, shown=shown, **where
    )
    await directory.edit_chapter("g0v", {"description": "Edited at home"}, version=g0v.version, shown=shown, **BOB)
    with pytest.raises(Conflict):
        await proposals.approve(made.id, actor_id=1, actor_name="oana")
    assert (await proposals.get(made.id)).status == "pending"
    rejected = await proposals.reject(made.id, actor_id=1, actor_name="oana")
    assert rejected.status == "rejected"
    assert directory.chapters["g0v"].description == "Edited at home"


async def test_an_edit_in_another_process_is_not_reverted_by_a_stale_form(
    directory: DirectoryService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    other_process = DirectoryService(sessions)
    await other_process.load()
    g0v = directory.chapters["g0v"]
    shown = {"description": g0v.description, "website": g0v.website}
    await other_process.edit_chapter("g0v", {"website": "https://g0v.tw/elsewhere"}, **BOB)
    assert directory.chapters["g0v"].website == g0v.website  # this process has not seen it
    saved = await directory.edit_chapter(
        "g0v", {"description": "Ana's text", "website": g0v.website}, version=g0v.version, shown=shown, **ANA
    )
    assert (saved.description, saved.website) == ("Ana's text", "https://g0v.tw/elsewhere")
    with pytest.raises(Conflict):
        await other_process.edit_chapter(
            "g0v", {"description": "Bob's text"}, version=g0v.version, shown={"description": g0v.description}, **BOB
        )
