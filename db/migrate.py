"""Alembic migrations, run on start-up and by `python -m bot db upgrade`.

Migrations are numbered: `versions/NNNN_what.py` has revision "NNNN", and a new one takes the next number, so
the newest is known from the file names. A start on a database already there reads its version and stops, without
importing Alembic (about 20 MiB the bot would otherwise carry for good).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


def latest_revision() -> str:
    """The newest migration's revision, from the numbered file names."""
    return max(m[1] for p in (MIGRATIONS / "versions").iterdir() if (m := _NUMBERED.match(p.name)))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision; None when it has none yet (a new database)."""
    try:
        async with engine.connect() as connection:
            return await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # no such table
        return None


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at the project's migrations (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` inside one transaction (nothing to do, and no Alembic, when there)."""
    if revision == "head" and await current_revision(engine) == latest_revision():
        return

    def _upgrade(connection: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
