"""Migrations and models agree; SQLite runs in WAL mode."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import MIGRATIONS, alembic_config, latest_revision, upgrade
from db.models import Base
from db.session import create_engine

ROOT = Path(__file__).resolve().parents[2]


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_upgrade_twice_is_harmless(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_the_newest_migration_has_the_highest_number_so_it_is_known_without_alembic() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    files = sorted(p.name for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    numbers = [name[:4] for name in files]
    for name, number in zip(files, numbers, strict=True):
        script = scripts.get_revision(number)
        assert script is not None and script.path.endswith(name), name
    assert sorted(s.revision for s in scripts.walk_revisions()) == numbers  # one line through every file
    assert latest_revision() == scripts.get_current_head() == numbers[-1]


async def test_a_start_on_an_up_to_date_database_does_not_import_alembic(
    empty_database_url: str, tmp_path: Path
) -> None:
    probe = (
        "import asyncio, sys\n"
        "from db.migrate import upgrade\n"
        "from db.session import create_engine\n"
        "async def main():\n"
        f"    engine = create_engine({empty_database_url!r})\n"
        "    await upgrade(engine)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print(any(m == 'alembic' or m.startswith('alembic.') for m in sys.modules))\n"
    )
    command = [sys.executable, "-c", probe]
    ran = [
        await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120, cwd=ROOT)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in ran] == ["True", "False"], [r.stderr for r in ran]


async def test_sqlite_uses_wal(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))).lower() == "wal"


async def test_upgrade_keeps_rows_written_by_an_older_schema(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO projects (key, name, topics, status, links, created_at, updated_at) "
                    "VALUES ('x/y', 'Y', '[]', 'active', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT names, descriptions, curated, version FROM projects"))).one()
        assert [json.loads(v) if isinstance(v, str) else v for v in row] == [{}, {}, [], 1]
    finally:
        await engine.dispose()
