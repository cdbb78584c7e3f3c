"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.migrate import current_revision, latest_revision, upgrade
from db.session import create_engine, create_session_factory
from tests.feeds_server import FeedServer

SHARED = Path(os.environ.get("SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
SHARED_DIRECTORY = SHARED / "data" / "directory"


def needs_shared(*names: str) -> pytest.MarkDecorator:
    """Skip a test unless these files of `../shared/data/directory` exist; the reason says which path is missing."""
    missing = [SHARED_DIRECTORY / name for name in names if not (SHARED_DIRECTORY / name).is_file()]
    if not SHARED_DIRECTORY.is_dir():
        missing = [SHARED_DIRECTORY]
    reason = f"needs ../shared beside the clone (or SHARED_DIR): {missing[0] if missing else SHARED} is missing"
    return pytest.mark.skipif(bool(missing), reason=reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With TEST_DATABASE_URL, run only the tests that meet a database (a database fixture, or the `postgres`
    mark): the others do not depend on it and already ran, the same, in the SQLite pass."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        meets = fixtures & {"database_url", "empty_database_url"} or item.get_closest_marker("postgres")
        (kept if meets else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision once per run, copied for each test that needs one."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()  # the last connection's close folds the WAL into the file

    with ThreadPoolExecutor(1) as thread:  # first asked for inside a test's running event loop
        thread.submit(asyncio.run, migrate()).result()
    return path


@pytest.fixture
async def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A database migrated to the newest revision and holding no rows: a copy of a migrated SQLite file, or
    the PostgreSQL test database with every table emptied (migrated again only when a test left it behind)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "test.db")
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    engine = create_engine(url)
    try:
        if await current_revision(engine) == latest_revision():
            async with engine.begin() as connection:
                tables = (await connection.scalars(text(_USER_TABLES))).all()
                await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                await connection.execute(text("UPDATE revisions SET value = 0"))  # its rows come with the schema
        else:
            await _wipe(engine)
            await upgrade(engine)
    finally:
        await engine.dispose()
    yield url


@pytest.fixture
async def empty_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it, not even the schema: for the tests of migrating itself."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    engine = create_engine(url)
    try:
        await _wipe(engine)
    finally:
        await engine.dispose()
    yield url


_USER_TABLES = (
    "SELECT quote_ident(tablename) FROM pg_tables "
    "WHERE schemaname = 'public' AND tablename NOT IN ('alembic_version', 'revisions')"
)


async def _wipe(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory on the migrated engine."""
    return create_session_factory(engine)


@pytest.fixture
async def feeds_server() -> AsyncIterator[FeedServer]:
    """A local feed server on 127.0.0.1 (see tests/feeds_server.py for the routes tests can set up)."""
    async with FeedServer() as server:
        yield server


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Charts as on a machine where the CJK font did not install."""
    from bot.ui import charts

    def clear() -> None:
        for cached in (charts.font_files, charts._families, charts._glyphs):
            cached.cache_clear()

    monkeypatch.setattr(charts, "cjk_font_path", lambda: None)
    clear()
    yield
    monkeypatch.undo()
    clear()
