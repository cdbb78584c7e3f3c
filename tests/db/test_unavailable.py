"""A database that cannot be reached reads as unavailable, whichever driver says so and however."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from db.session import create_engine, database_unavailable


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_postgresql_server_that_refuses_connections_is_an_operational_error() -> None:
    pytest.importorskip("asyncpg", reason="needs the PostgreSQL driver: pip install -e '.[postgres]'")
    engine = create_engine(f"postgresql+asyncpg://bot@127.0.0.1:{_closed_port()}/bot")
    try:
        with pytest.raises(OperationalError) as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert database_unavailable(raised.value)
    assert "cannot connect to the database" in str(raised.value)


async def test_a_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'bot.db'}")
    folder.rmdir()
    (tmp_path / "data").write_text("a file where the folder was")
    try:
        with pytest.raises(OperationalError) as raised:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert database_unavailable(raised.value)


def test_a_refused_write_is_not_the_database_being_unavailable() -> None:
    assert not database_unavailable(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
    assert not database_unavailable(ValueError("not a database error"))
