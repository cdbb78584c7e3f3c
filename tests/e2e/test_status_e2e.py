"""`/status` for organisers: the process, the scheduler, the outbox, feeds and the database, refused to members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from bot.delivery.outbox import Payload, enqueue
from bot.health import look
from bot.offline import SandboxSession


async def test_an_organiser_sees_how_the_bot_is_doing_and_a_member_cannot(session: SandboxSession) -> None:
    async with session.bot.sessions.begin() as db:
        await enqueue(
            db,
            kind="test",
            key="late",
            guild_id=session.guild_id,
            channel_id=999,
            payload=Payload(content="x"),
            due_at=datetime.now(UTC) + timedelta(days=1),
        )
    shown = await session.sandbox.slash(session.guild_id, session.channel_id, session.organiser_id, "status")
    text = shown.message.content
    assert shown.message.ephemeral
    assert "runs the scheduled work" in text and "shard 0 of 1" in text and "Database round trip" in text
    assert "Posts waiting: 0" in text and "Feeds: 0, 0 failing, 0 stopped" in text
    refused = await session.sandbox.slash(session.guild_id, session.channel_id, session.member_id, "status")
    assert "Only organisers" in refused.message.content


async def test_the_status_counts_what_is_due(session: SandboxSession) -> None:
    async with session.bot.sessions.begin() as db:
        for n in range(3):
            await enqueue(
                db,
                kind="test",
                key=str(n),
                guild_id=session.guild_id,
                channel_id=999,
                payload=Payload(content="x"),
                due_at=datetime.now(UTC) + timedelta(days=1),
            )
    health = await look(
        session.bot.sessions, FakeClock(datetime.now(UTC) + timedelta(days=2)), session.bot.scheduler.leadership
    )
    assert health.backlog == 3 and health.oldest_due is not None
    assert "outbox 3 due" in health.log_line() and "scheduler leader" in health.log_line()
