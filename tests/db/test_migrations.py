"""Migrations and models agree; SQLite runs in WAL mode."""

from __future__ import annotations

import json
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import alembic_config, upgrade
from db.models import Base
from db.session import create_engine


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


async def test_sqlite_uses_wal(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))).lower() == "wal"


async def test_upgrade_keeps_rows_written_by_an_older_schema(database_url: str) -> None:
    engine = create_engine(database_url)
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
