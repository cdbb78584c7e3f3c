"""SIGKILL the real bot process and restart it: during 50-channel fan-outs nothing is lost or doubled, and a
newcomer's welcome still works.

A handful of kills here; `.ci/run` runs `bench/outbox_kill.py --kills 20` (and with a standby) on top.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from bench.outbox_kill import BotProcess, _bot_env, kill_run
from bot.sandbox import Sandbox

ROMANIA = "Code for Romania"


async def test_killing_the_bot_during_fan_outs_loses_and_doubles_nothing(database_url: str, tmp_path: Path) -> None:
    report = await kill_run(database_url, tmp_path, kills=3, seed=7)
    assert report.expected == 150
    assert (report.lost, report.doubled) == (0, 0), report


async def _ready(bot: BotProcess, timeout: float = 90.0) -> None:  # noqa: ASYNC109
    started = time.monotonic()
    while not bot.logged("ready as"):
        assert bot.alive, bot.log_path.read_text()
        assert time.monotonic() - started < timeout, bot.log_path.read_text()
        await asyncio.sleep(0.1)


async def test_a_newcomer_picks_a_chapter_from_a_welcome_the_killed_bot_posted(
    database_url: str, tmp_path: Path
) -> None:
    sandbox = Sandbox()
    await sandbox.start()
    owner = sandbox.create_user("owner")
    guild = sandbox.create_guild("Code for All", owner_id=owner.id)
    general = sandbox.find_channel(guild.id, "general")
    env = _bot_env(sandbox, database_url, tmp_path) | {"LOG_LEVEL": "INFO"}
    first = BotProcess(tmp_path / "first.log", env, tmp_path)
    second: BotProcess | None = None
    try:
        await _ready(first)
        mei = sandbox.create_user("mei").id
        sandbox.add_member(guild.id, mei)
        welcome = await sandbox.wait_for_message(general.id, author_id=sandbox.state.bot_id, timeout=30)
        assert f"<@{mei}>" in welcome.content
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=30)

        second = BotProcess(tmp_path / "second.log", env, tmp_path)
        await _ready(second)
        pick = next(b["custom_id"] for b in welcome.buttons if b.get("label") == "Pick your chapter")
        menu = await sandbox.click(welcome, pick, mei, timeout=15)
        [regions] = menu.message.selects
        chapters = await sandbox.select(menu.message, regions["custom_id"], ["Europe"], mei, timeout=15)
        [listed] = chapters.message.selects
        picked = await sandbox.select(chapters.message, listed["custom_id"], [ROMANIA], mei, timeout=15)
        [answer] = await picked.wait_until_answered()
        assert answer.content.startswith(f"Welcome to {ROMANIA}!")
        roles = sandbox.state.guilds[guild.id].roles
        assert ROMANIA in {roles[r].name for r in sandbox.state.guilds[guild.id].members[mei].roles}
        # Her welcome was recorded before the kill: the restarted bot does not welcome her again.
        bot_posts = [m for m in sandbox.messages(general.id) if m.author_id == sandbox.state.bot_id]
        assert [m for m in bot_posts if not m.ephemeral and f"<@{mei}>" in m.content] == [welcome]
    finally:
        for bot in (first, second):
            if bot is not None:
                bot.stop()
        await sandbox.stop()
