"""The SQLite file the bot cannot use: read-only, a folder that cannot be made, a full disk at start or while running.

At start `python -m bot run` prints one line and exits non-zero; a disk that fills while the bot runs fails each
write with one logged line and an incident id the organiser sees, while reads go on being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.offline import SandboxSession, start_session
from db.migrate import upgrade
from db.session import create_engine

ROOT = Path(__file__).resolve().parents[2]
NO_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]
INCIDENT = re.compile(r"incident `([0-9a-f]{8})`")
pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite's own files")


def run_bot(tmp_path: Path, database: Path, *, prefix: list[str] | None = None, **popen: object) -> tuple[int, str]:
    """`python -m bot run` with no token (the offline sandbox) on the SQLite file `database`."""
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_URL"}}
    env.update(
        PYTHONPATH=str(ROOT),
        DATA_DIR=str(tmp_path),
        SEED_FILE=str(ROOT / "data" / "directory.yaml"),
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
    )
    done = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        **popen,  # type: ignore[call-overload]
    )
    return done.returncode, done.stderr


def one_line(status: int, stderr: str) -> str:
    assert status == 1, stderr
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    return line


def without_root_powers() -> list[str]:
    """Root writes to read-only files: drop that power for the child, or skip if it cannot be dropped."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("as root, needs setpriv (util-linux) to make a read-only file unwritable")
    return NO_DAC


async def migrated(tmp_path: Path) -> Path:
    database = tmp_path / "data" / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return database


async def test_a_read_only_database_file_is_one_line(tmp_path: Path) -> None:
    database = await migrated(tmp_path)
    database.chmod(0o444)
    line = one_line(*run_bot(tmp_path, database, prefix=without_root_powers()))
    assert line == f"Cannot use the database 'sqlite+aiosqlite:///{database}': attempt to write a readonly database"


def test_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = one_line(*run_bot(tmp_path, folder / "bot.db", prefix=without_root_powers()))
    finally:
        folder.chmod(0o755)
    assert line.startswith(f"Cannot use the database 'sqlite+aiosqlite:///{folder / 'bot.db'}': ")
    assert str(folder) in line and "Permission denied" in line


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    database = tmp_path / "data" / "bot" / "bot.db"
    line = one_line(*run_bot(tmp_path, database))
    assert line == (
        f"Cannot use the database 'sqlite+aiosqlite:///{database}': "
        f"cannot create the folder {database.parent}: Not a directory"
    )


def _small_files() -> None:
    limit = 64 * 1024  # the migrations need more; writes past it fail as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_disk_full_at_start_is_one_line(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.db"
    line = one_line(*run_bot(tmp_path, database, preexec_fn=_small_files))
    assert line == f"Cannot use the database 'sqlite+aiosqlite:///{database}': disk I/O error"


# --- a disk that fills while the bot runs --------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of the test's own (mounting needs root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True, text=True, timeout=30
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


@pytest.fixture
async def bot_on_small_disk(small_disk: Path, tmp_path: Path) -> AsyncIterator[SandboxSession]:
    settings = load_settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{small_disk / 'bot.db'}", data_dir=tmp_path
    )
    session = await start_session(settings)
    try:
        yield session
    finally:
        await session.stop()


def fill(disk: Path) -> Callable[[], None]:
    """Fill the disk to the last byte; returns what frees it again."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # big blocks, then the last partial ones
            block = b"\0" * size
            with contextlib.suppress(OSError):  # ENOSPC: on to smaller blocks
                while True:
                    os.write(descriptor, block)
    finally:
        os.close(descriptor)
    return lambda: filler.unlink()


async def language(session: SandboxSession, value: str) -> str:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "settings language", {"language": value}
    )
    return str(result.message.content)


async def test_a_disk_that_fills_fails_each_write_in_one_line_and_reads_go_on(
    bot_on_small_disk: SandboxSession, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    session = bot_on_small_disk
    async with asyncio.timeout(60):
        assert (await language(session, "ro")).startswith("Saved.")
        free = fill(small_disk)
        incidents = []
        with caplog.at_level(logging.ERROR, logger="bot.errors"):
            for value in ("de", "ja"):
                answer = await language(session, value)
                assert "database is not available, so nothing was saved" in answer, answer
                match = INCIDENT.search(answer)
                assert match, answer
                incidents.append(match.group(1))
        for incident in incidents:
            [record] = [r for r in caplog.records if incident in r.getMessage()]
            assert "database or disk is full" in record.getMessage(), record.getMessage()
        assert (await session.bot.guild_settings.get(session.guild_id)).locale == "ro"
        shown = await session.sandbox.slash(
            session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "g0v"}
        )
        assert "g0v" in shown.message.embeds[0]["title"]
        listing = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "chapters")
        page_two = await session.sandbox.click(
            listing.message.id, listing.message.buttons[1]["custom_id"], session.member_id
        )
        assert page_two.message.embeds[0]["footer"]["text"].startswith("Page 2/")

        free()
        assert (await language(session, "de")).startswith("Saved.")
        assert not session.task.done()
