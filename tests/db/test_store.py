"""The directory store under a second process, start-up races, long imports and faults (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from bot.app import App
from bot.config import DEFAULT_SEED_FILE, load_settings
from bot.directory import formats, service
from bot.directory.records import ImportBatch, ProjectRecord
from bot.directory.service import IMPORT_CHUNK, DirectoryService
from db.models import Chapter, ImportRun, Project
from db.repositories import bump_revision

ROOT = Path(__file__).resolve().parents[2]
WITHIN = 2.0  # seconds another process may take to see a write


@pytest.fixture
async def apps(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[App]]]:
    """Start Apps on one database, each with its own engine, as separate processes would."""
    started: list[App] = []

    async def start() -> App:
        app = App.create(load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path))
        await app.start(watch=True)
        started.append(app)
        return app

    yield start
    for app in started:
        await app.close()


async def eventually(check: Callable[[], bool], within: float = WITHIN) -> float:
    """Seconds until `check` holds (waiting on the real watcher), failing after `within`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "not seen in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def projects(count: int, chapter: str = "g0v", prefix: str = "bulk") -> ImportBatch:
    return ImportBatch(
        projects=tuple(
            ProjectRecord(key=f"{chapter}/{prefix}-{i}", chapter=chapter, name=f"{prefix} tool {i}")
            for i in range(count)
        )
    )


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN"}}
    return {**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)}


async def test_an_edit_in_one_process_is_seen_by_another_within_two_seconds(
    apps: Callable[[], Awaitable[App]],
) -> None:
    first, second = await apps(), await apps()
    assert second.directory.chapters["g0v"].city != "Taipei City"
    await first.directory.edit_chapter("g0v", {"city": "Taipei City"}, actor_id=1, actor_name="ana")
    await eventually(lambda: second.directory.chapters["g0v"].city == "Taipei City")
    assert second.directory.find_chapter("g0v").city == "Taipei City"


async def test_guild_settings_changed_by_one_process_reach_the_other(apps: Callable[[], Awaitable[App]]) -> None:
    first, second = await apps(), await apps()
    assert (await second.guild_settings.get(42)).organiser_role_id is None  # now cached in the second process
    await first.guild_settings.update(42, organiser_role_id=7)
    started = time.monotonic()
    while (await second.guild_settings.get(42)).organiser_role_id != 7:
        assert time.monotonic() - started < WITHIN, "not seen in time"
        await asyncio.sleep(0.02)


async def test_a_command_line_import_reaches_the_running_bot_and_its_next_edit_keeps_it(
    apps: Callable[[], Awaitable[App]], database_url: str, tmp_path: Path
) -> None:
    bot = await apps()
    upload = tmp_path / "update.yaml"
    upload.write_text(
        "chapters:\n  - {key: g0v, name: g0v, website: 'https://g0v.example.org', tier: governing}\n"
        "projects:\n  - {key: g0v/from-cli, chapter: g0v, name: Imported from the command line}\n",
        encoding="utf-8",
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "import", str(upload)],
        env=_env(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    await eventually(lambda: "g0v/from-cli" in bot.directory.projects)
    assert bot.directory.chapters["g0v"].website == "https://g0v.example.org"
    await bot.directory.edit_chapter("g0v", {"city": "Taipei City"}, actor_id=1, actor_name="ana")
    async with bot.sessions() as session:
        row = await session.scalar(select(Chapter).where(Chapter.key == "g0v"))
    assert row is not None and row.website == "https://g0v.example.org" and row.city == "Taipei City"


def test_processes_starting_at_once_migrate_and_seed_once(empty_database_url: str, tmp_path: Path) -> None:
    env = _env(empty_database_url, tmp_path)
    outputs = [tmp_path / f"export-{i}.yaml" for i in range(3)]
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "export", str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outputs
    ]
    results = [process.communicate(timeout=180) for process in started]
    assert [p.returncode for p in started] == [0, 0, 0], [err for _, err in results]
    seed = formats.load_file(DEFAULT_SEED_FILE)
    for out in outputs:
        exported = formats.parse_yaml(out.read_text(encoding="utf-8"))
        assert len(exported.chapters) == len(seed.chapters)


async def test_an_empty_database_is_seeded_with_a_warning(
    apps: Callable[[], Awaitable[App]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        await apps()
    seeded = [r for r in caplog.records if "seeded" in r.getMessage()]
    assert len(seeded) == 1 and seeded[0].levelno == logging.WARNING
    assert "restore it from a backup" in seeded[0].getMessage()


async def test_a_failing_progress_display_does_not_stop_the_import(apps: Callable[[], Awaitable[App]]) -> None:
    app = await apps()
    shown: list[int] = []

    async def progress(done: int, total: int) -> None:
        shown.append(done)
        raise RuntimeError("the progress message cannot be edited")

    report = await app.directory.import_batch(projects(IMPORT_CHUNK * 2 + 1), actor_name="ana", progress=progress)
    assert report.created == IMPORT_CHUNK * 2 + 1
    assert shown == [IMPORT_CHUNK, IMPORT_CHUNK * 2, IMPORT_CHUNK * 2 + 1]
    async with app.sessions() as session:
        run = await session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
    assert run is not None and (run.status, run.done, run.created) == ("done", IMPORT_CHUNK * 2 + 1, report.created)


async def test_a_failure_halfway_keeps_the_committed_chunks_and_a_second_import_resumes(
    apps: Callable[[], Awaitable[App]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await apps()
    batch = projects(IMPORT_CHUNK * 3)
    upsert = service._Writer.upsert_project

    def failing(writer: service._Writer, index: int, values: dict[str, object], **options: Any) -> None:
        if index == IMPORT_CHUNK + 5:
            raise RuntimeError("disk full")
        upsert(writer, index, values, **options)

    monkeypatch.setattr(service._Writer, "upsert_project", failing)
    with pytest.raises(RuntimeError):
        await app.directory.import_batch(batch, actor_name="ana", source="big.yaml")
    async with app.sessions() as session:
        kept = await session.scalar(select(func.count()).select_from(Project).where(Project.key.like("g0v/bulk-%")))
        run = await session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
    assert kept == IMPORT_CHUNK  # the first chunk stays; the failing chunk rolled back as a whole
    assert run is not None and (run.source, run.status, run.done) == ("big.yaml", "failed", IMPORT_CHUNK)
    assert "disk full" in (run.error or "")
    assert len([k for k in app.directory.projects if k.startswith("g0v/bulk-")]) == IMPORT_CHUNK

    monkeypatch.setattr(service._Writer, "upsert_project", upsert)
    report = await app.directory.import_batch(batch, actor_name="ana", source="big.yaml")
    assert (report.unchanged, report.created) == (IMPORT_CHUNK, IMPORT_CHUNK * 2)


async def test_a_form_save_during_a_long_import_is_not_locked_out(apps: Callable[[], Awaitable[App]]) -> None:
    importer, editor = await apps(), await apps()
    paused, resume = asyncio.Event(), asyncio.Event()

    async def slow_progress(done: int, total: int) -> None:
        if done == IMPORT_CHUNK:
            paused.set()
            await resume.wait()  # a slow progress edit, longer than SQLite's 5 s busy timeout would allow

    running = asyncio.create_task(
        importer.directory.import_batch(projects(IMPORT_CHUNK * 2), actor_name="ana", progress=slow_progress)
    )
    await asyncio.wait_for(paused.wait(), 60)
    try:
        saved = await asyncio.wait_for(
            editor.directory.edit_chapter("g0v", {"city": "Taipei City"}, actor_id=2, actor_name="oana"), 4
        )
    finally:
        resume.set()
        await running
    assert saved.city == "Taipei City"


async def test_an_edit_patches_the_search_index_instead_of_rebuilding_it(apps: Callable[[], Awaitable[App]]) -> None:
    app = await apps()
    directory = app.directory
    index = directory._project_index
    await directory.edit_project(
        None, {"key": "g0v/vote-map", "name": "Vote map", "chapter": "g0v"}, actor_id=1, actor_name="ana"
    )
    assert directory._project_index is index
    assert directory.find_project("vote map").key == "g0v/vote-map"
    assert "g0v/vote-map" in [p.key for p in directory.chapter_projects("g0v")]
    await directory.edit_project("g0v/vote-map", {"name": "Ballot map"}, actor_id=1, actor_name="ana")
    assert directory.find_project("ballot map").key == "g0v/vote-map"
    assert [p.key for p in directory.search_projects("vote map")] == []


async def test_an_export_is_built_off_the_event_loop(
    apps: Callable[[], Awaitable[App]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await apps()
    threads: list[threading.Thread] = []
    dump = formats.dump_yaml

    def spy(batch: ImportBatch) -> str:
        threads.append(threading.current_thread())
        return dump(batch)

    monkeypatch.setattr(formats, "dump_yaml", spy)
    text = await app.directory.export_yaml()
    assert threads and threads[0] is not threading.main_thread()
    assert {c.key for c in formats.parse_yaml(text).chapters} == set(app.directory.chapters)


async def test_a_fresh_service_reads_every_row(apps: Callable[[], Awaitable[App]]) -> None:
    app = await apps()
    await app.directory.import_batch(projects(10), actor_name="ana")
    fresh = DirectoryService(app.sessions)
    await fresh.load()
    assert set(fresh.projects) == set(app.directory.projects)
    assert fresh.revision == app.directory.revision


async def test_a_row_removed_by_another_process_is_forgotten(apps: Callable[[], Awaitable[App]]) -> None:
    first, second = await apps(), await apps()
    await first.directory.import_batch(projects(3), actor_name="ana")
    await eventually(lambda: "g0v/bulk-1" in second.directory.projects)
    async with first.sessions.begin() as session:
        await bump_revision(session, "directory")
        await session.execute(delete(Project).where(Project.key == "g0v/bulk-1"))
    await eventually(lambda: "g0v/bulk-1" not in second.directory.projects)
    assert "g0v/bulk-1" not in [p.key for p in second.directory.chapter_projects("g0v")]
    assert [p.key for p in second.directory.search_projects("bulk tool 1")] != ["g0v/bulk-1"]
