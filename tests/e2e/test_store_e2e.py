"""The directory store as organisers and a second process meet it through Discord: freshness, long imports, faults."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from bot.app import App
from bot.config import load_settings
from bot.directory.service import IMPORT_CHUNK
from bot.offline import SandboxSession
from bot.sandbox import InteractionResult

WITHIN = 2.0


def big_upload(count: int) -> tuple[str, bytes]:
    lines = ["projects:"]
    lines += [f"  - {{key: g0v/tool-{i}, chapter: g0v, name: Civic tool {i}}}" for i in range(count)]
    return "projects.yaml", "\n".join(lines).encode()


async def slash(
    s: SandboxSession, command: str, user: int | None = None, wait: float = 10.0, **options: object
) -> InteractionResult:
    return await s.sandbox.slash(s.guild_id, s.channel_id, user or s.member_id, command, options, timeout=wait)


async def test_an_edit_made_by_another_process_shows_within_two_seconds(
    session: SandboxSession, database_url: str, tmp_path: Path
) -> None:
    other = App.create(load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path))
    await other.start()
    try:
        await other.directory.edit_chapter("g0v", {"city": "Taipei City"}, actor_id=9, actor_name="second process")
    finally:
        await other.close()
    written = time.monotonic()
    while True:
        shown = await slash(session, "chapter", name="g0v")
        if any("Taipei City" in f["value"] for f in shown.message.embeds[0]["fields"]):
            break
        assert time.monotonic() - written < WITHIN, "the bot did not see the other process's edit"
        await asyncio.sleep(0.05)


async def test_a_search_page_shows_a_project_another_process_added_within_two_seconds(
    session: SandboxSession, database_url: str, tmp_path: Path
) -> None:
    before = await slash(session, "projects", words="ledger")  # rendered now, and kept
    assert "Open ledger of Hsinchu" not in (before.message.embeds[0].get("description") or "")
    other = App.create(load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path))
    await other.start()
    try:
        await other.directory.edit_project(
            None,
            {
                "key": "g0v/open-ledger",
                "chapter": "g0v",
                "name": "Open ledger of Hsinchu",
                "description": "The city's ledger, line by line",
            },
            actor_id=9,
            actor_name="second process",
        )
    finally:
        await other.close()
    written = time.monotonic()
    while True:
        shown = await slash(session, "projects", words="ledger")
        if "Open ledger of Hsinchu" in (shown.message.embeds[0].get("description") or ""):
            break
        assert time.monotonic() - written < WITHIN, "the search kept a page older than the other process's edit"
        await asyncio.sleep(0.05)


async def test_a_form_save_during_an_upload_import_is_saved(
    session: SandboxSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = session.sandbox
    monkeypatch.setattr(sys.modules["cogs.directory"], "PROGRESS_EVERY", 0.0)
    # The first progress edit is slow (Discord lagging): twice SQLite's 5 s busy timeout.
    slow = sandbox.inject("PATCH", r"/messages/@original$", None, delay=10.0)
    # The organiser's "thinking…" answer comes with the first (slow) progress edit.
    uploading = asyncio.create_task(
        slash(session, "directory import", user=session.organiser_id, file=big_upload(IMPORT_CHUNK * 2), wait=60)
    )
    while slow.remaining:  # noqa: ASYNC110  (the slow edit has reached Discord)
        await asyncio.sleep(0.01)
    form = await slash(session, "directory edit-chapter", user=session.organiser_id, chapter="g0v")
    saved = await sandbox.submit_modal(form, {"website": "https://g0v.example.org"}, session.organiser_id, timeout=10)
    assert saved.message.content == "Saved.", saved.message.content
    upload = await uploading
    final = await upload.wait_for_messages(2, timeout=30)
    assert "created" in final[-1].content
    shown = await slash(session, "chapter", name="g0v")
    assert "g0v.example.org" in str(shown.message.embeds[0])


async def test_an_import_whose_progress_and_answer_cannot_be_shown_still_imports_and_answers_by_direct_message(
    session: SandboxSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = session.sandbox
    monkeypatch.setattr(sys.modules["cogs.directory"], "PROGRESS_EVERY", 0.0)
    # The interaction token expired: Discord refuses edits and follow-ups.
    sandbox.inject("PATCH", r"/webhooks/\d+/[^/]+/messages/@original$", 404, times=100)
    sandbox.inject("POST", r"/webhooks/\d+/[^/]+$", 404, times=100)
    # The organiser's screen keeps "thinking…": nothing can edit it any more.
    upload = asyncio.create_task(
        slash(session, "directory import", user=session.organiser_id, file=big_upload(IMPORT_CHUNK * 2), wait=60)
    )
    deadline = time.monotonic() + 30
    while not any(e.method == "POST" and e.path.endswith("/users/@me/channels") for e in sandbox.exchanges):
        assert time.monotonic() < deadline, "the bot never tried to answer by direct message"
        await asyncio.sleep(0.05)
    upload.cancel()
    found = await slash(session, "project", name="Civic tool 7")
    assert "Civic tool 7" in found.message.embeds[0]["title"]
    dm = next(e for e in sandbox.exchanges if e.method == "POST" and e.path.endswith("/users/@me/channels"))
    assert int(dm.request_json["recipient_id"]) == session.organiser_id


async def test_a_save_after_the_data_folder_was_deleted_says_nothing_was_saved(
    session: SandboxSession, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("a data folder is SQLite's")
    form = await slash(session, "directory edit-chapter", user=session.organiser_id, chapter="g0v")
    database = Path(database_url.split("///", 1)[1])
    for path in database.parent.glob(database.name + "*"):
        path.unlink()
    saved = await session.sandbox.submit_modal(form, {"website": "https://lost.example.org"}, session.organiser_id)
    assert saved.message.content != "Saved."
    assert "database" in saved.message.content and "nothing was saved" in saved.message.content
