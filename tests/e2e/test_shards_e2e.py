"""Shards: one process serving every shard (any database), and two bot processes as shards 0 and 1 of 2 on one
PostgreSQL database: each answers only its own guilds, one runs the scheduled work, and when it is SIGKILLed the
other takes over within 10 s and posts for every guild.

The two-process test needs PostgreSQL (TEST_DATABASE_URL): SQLite serves one process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from discord.ext import commands

from bot.config import load_settings
from bot.delivery.outbox import Payload, enqueue
from bot.offline import start_session
from bot.sandbox import Sandbox, shard_of
from bot.sandbox.state import Guild
from db.session import create_engine, create_session_factory
from tests.openapi_validator import exchange_violations, format_report

ROOT = Path(__file__).resolve().parents[2]
LEADS = "this process now runs the scheduled work"
TAKEOVER_LIMIT = 10.0

needs_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="several shard processes need PostgreSQL (set TEST_DATABASE_URL)",
)


class BotProcess:
    """`python -m bot run` for one shard, logging to a file the test reads."""

    def __init__(self, shard: int, sandbox: Sandbox, database_url: str, folder: Path) -> None:
        self.shard = shard
        self.log_path = folder / f"shard{shard}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISCORD_", "SHARD_"))}
        env |= {
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": sandbox.bot_token,
            "DISCORD_API_URL": sandbox.api_base,
            "DISCORD_GATEWAY_URL": sandbox.gateway_url,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(folder / f"data{shard}"),
            "SEED_FILE": str(ROOT / "data" / "directory.yaml"),
            "DELIVERY_POLL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        args = [sys.executable, "-m", "bot", "run"]
        if shard == 0:
            args += ["--shard-ids", "0", "--shard-count", "2"]  # the command line ...
        else:
            env |= {"SHARD_IDS": str(shard), "SHARD_COUNT": "2"}  # ... or the environment
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(args, cwd=folder, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def logged(self, text: str) -> bool:
        return text in self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


async def until(check: Callable[[], object], timeout: float, what: str, processes: list[BotProcess]) -> float:  # noqa: ASYNC109
    """Poll `check()` every 50 ms; returns the seconds it took, or fails with the bots' logs."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            logs = "\n".join(f"--- shard {p.shard}\n{p.log_path.read_text()[-3000:]}" for p in processes)
            pytest.fail(f"{what} did not happen within {timeout} s\n{logs}")
        for process in processes:
            if process.process.poll() is not None and process.process.returncode != -signal.SIGKILL:
                pytest.fail(
                    f"shard {process.shard} exited with {process.process.returncode}\n{process.log_path.read_text()}"
                )
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@needs_postgresql
async def test_two_shard_processes_split_the_guilds_and_the_standby_takes_over(
    database_url: str, tmp_path: Path
) -> None:
    sandbox = Sandbox()
    await sandbox.start()
    guilds = [sandbox.create_guild(f"Chapter {n}") for n in range(4)]
    assert [shard_of(g.id, 2) for g in guilds] == [0, 1, 0, 1]
    bots = [BotProcess(shard, sandbox, database_url, tmp_path) for shard in (0, 1)]
    engine = create_engine(database_url)
    try:
        await until(lambda: all(b.logged("ready as") for b in bots), 90, "both shards ready", bots)
        await until(lambda: sandbox.state.global_commands, 30, "the commands synced", bots)
        await until(lambda: any(b.logged(LEADS) for b in bots), 15, "a leader", bots)
        leader = next(b for b in bots if b.logged(LEADS))
        standby = bots[1 - leader.shard]
        assert not standby.logged(LEADS)

        async def status(guild: Guild) -> str:
            assert guild.system_channel_id is not None
            shown = await sandbox.slash(guild.id, guild.system_channel_id, guild.owner_id, "status", timeout=20)
            return shown.message.content

        for guild in guilds:
            bot = bots[shard_of(guild.id, 2)]
            text = await status(guild)
            assert f"This process: shard {bot.shard} of 2, pid {bot.process.pid} on " in text
            assert ("runs the scheduled work" if bot is leader else "stands by") in text
            assert f"runs in: shard {leader.shard} of 2, pid {leader.process.pid} on " in text  # named by either
        sessions = {s.shard: s for s in sandbox.gateway.sessions.values()}
        assert set(sessions) == {(0, 2), (1, 2)}
        for (shard, _count), session in sessions.items():
            answered = {int(d["guild_id"]) for d in session.sent("INTERACTION_CREATE")}
            assert answered == {g.id for g in guilds if shard_of(g.id, 2) == shard}

        leader.process.send_signal(signal.SIGKILL)
        took = await until(lambda: standby.logged(LEADS), TAKEOVER_LIMIT, "the standby taking over", bots)
        print(f"\ntakeover after the leader's SIGKILL: {took:.2f} s")
        assert took < TAKEOVER_LIMIT

        own = next(g for g in guilds if shard_of(g.id, 2) == standby.shard)
        shown = await status(own)
        assert "runs the scheduled work" in shown and f"runs in: shard {standby.shard} of 2," in shown
        # The new leader posts the outbox for every guild, the dead shard's too: REST has no shards.
        orphan = next(g for g in guilds if shard_of(g.id, 2) == leader.shard)
        assert orphan.system_channel_id is not None
        async with create_session_factory(engine).begin() as session:
            await enqueue(
                session,
                kind="shard-test",
                key="after-takeover",
                guild_id=orphan.id,
                channel_id=orphan.system_channel_id,
                payload=Payload(content="posted by the new leader"),
                due_at=datetime.now(UTC),
            )

        def posted() -> bool:
            return any(m.content == "posted by the new leader" for m in sandbox.messages(orphan.system_channel_id or 0))

        await until(posted, 15, "the new leader posting in the dead shard's guild", bots)
    finally:
        for bot in bots:
            bot.stop()
        await engine.dispose()
        await sandbox.stop()
    violations = exchange_violations(sandbox.exchanges)
    assert not violations, format_report(violations)


async def test_one_process_serves_every_shard_of_the_count(database_url: str, tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path, shard_count=2)
    running = await start_session(settings)
    try:
        sandbox = running.sandbox
        assert isinstance(running.bot, commands.AutoShardedBot)
        other = sandbox.create_guild("Code for Japan", owner_id=running.organiser_id)
        assert {shard_of(running.guild_id, 2), shard_of(other.id, 2)} == {0, 1}
        await sandbox.settle()
        assert sorted(s.shard for s in sandbox.gateway.sessions.values() if s.shard) == [(0, 2), (1, 2)]
        for guild_id in (running.guild_id, other.id):
            channel = sandbox.find_channel(guild_id, "general")
            shown = await sandbox.slash(guild_id, channel.id, running.organiser_id, "status")
            assert f"shards 0, 1 of 2, pid {os.getpid()} on " in shown.message.content
            assert "runs the scheduled work" in shown.message.content
    finally:
        await running.stop()
    violations = exchange_violations(running.sandbox.exchanges)
    assert not violations, format_report(violations)
