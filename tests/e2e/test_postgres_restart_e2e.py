"""PostgreSQL restarted under the running bot, on a server of the test's own (never the shared one).

The bot keeps running, says the database is unavailable while it is down, answers again soon after it is back,
and every outbox row made before the outage is posted exactly once.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import load_settings
from bot.delivery.outbox import SENT, Payload, enqueue
from bot.offline import SandboxSession, start_session
from db.models import Delivery
from tests.private_postgres import PrivatePostgres, why_not

pytest.importorskip("asyncpg", reason="needs the PostgreSQL driver: pip install -e '.[postgres]'")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="runs in the PostgreSQL pass (TEST_DATABASE_URL set)"
    ),
    pytest.mark.skipif(why_not() is not None, reason=why_not() or ""),
]

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
BACK_WITHIN = 15.0  # seconds after the server is back by which commands that write answer "Saved." again
ROWS, CHANNELS = 24, 4


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    postgres = PrivatePostgres()
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.close()


@pytest.fixture
async def bot_on_server(server: PrivatePostgres, tmp_path: Path) -> AsyncIterator[tuple[SandboxSession, FakeClock]]:
    clock = FakeClock(START)
    settings = load_settings(_env_file=None, database_url=server.url, data_dir=tmp_path)
    session = await start_session(settings, clock=clock)
    try:
        yield session, clock
    finally:
        await session.stop()


async def language(session: SandboxSession, value: str) -> str:
    result = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "settings language", {"language": value}
    )
    return str(result.message.content)


@pytest.mark.parametrize("mode", ["immediate", "fast"])  # a crash, and an administrator's clean stop
async def test_the_bot_rides_out_a_postgresql_restart_and_posts_every_row_once(
    server: PrivatePostgres, bot_on_server: tuple[SandboxSession, FakeClock], mode: str
) -> None:
    session, clock = bot_on_server
    sandbox, bot = session.sandbox, session.bot
    async with asyncio.timeout(90):
        assert (await language(session, "ro")).startswith("Saved.")
        channels = [sandbox.create_channel(session.guild_id, f"posts-{n}").id for n in range(CHANNELS)]
        await sandbox.settle()
        # Discord is slow, so the fan-out is still going when the database goes away.
        sandbox.inject("POST", r"^/channels/\d+/messages$", None, delay=0.15, times=ROWS)
        async with bot.app.sessions.begin() as db:
            for number in range(ROWS):
                await enqueue(
                    db,
                    kind="test",
                    key=f"row-{number}",
                    guild_id=session.guild_id,
                    channel_id=channels[number % CHANNELS],
                    payload=Payload(content=f"Post {number}"),
                    due_at=clock.now(),
                )
        while not sandbox.messages(channels[0]):  # noqa: ASYNC110  (the fan-out has begun)
            await asyncio.sleep(0.01)
        await asyncio.to_thread(server.stop, mode)

        during = await language(session, "de")
        assert "database is not available" in during and "incident `" in during, during
        shown = await sandbox.slash(session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "g0v"})
        assert "g0v" in shown.message.embeds[0]["title"]  # reads come from memory while the database is away

        await asyncio.to_thread(server.start)
        back = time.monotonic()
        while not (answer := await language(session, "de")).startswith("Saved."):
            assert time.monotonic() - back < BACK_WITHIN, f"still failing after the database came back: {answer}"
            await asyncio.sleep(0.2)
        assert not session.task.done(), "the bot's connection ended"

        # Rows whose claim died with the connection wait for the claim to expire; then all go out.
        clock.advance(bot.dispatcher.policy.claim_timeout + bot.dispatcher.policy.max_backoff)
        while True:
            await bot.dispatcher.run()
            async with bot.app.sessions() as db:
                states = (await db.scalars(select(Delivery.state).where(Delivery.kind == "test"))).all()
            if len(states) == ROWS and all(state == SENT for state in states):
                break
            await asyncio.sleep(0.1)
    posted = sorted(m.content for channel in channels for m in sandbox.messages(channel))
    assert posted == sorted(f"Post {number}" for number in range(ROWS))
