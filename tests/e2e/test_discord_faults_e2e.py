"""Discord misbehaving under the real bot: rate limits (global, per route, shared), server errors, lost answers,
and a gateway that drops mid-interaction. Nothing is answered or posted twice, and nothing is lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.delivery.outbox import PENDING, SENT, Payload, enqueue, nonce_for
from bot.offline import SandboxSession
from bot.sandbox import InteractionResult
from bot.sandbox.rest import Exchange
from db.models import Delivery

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MESSAGES = r"^/channels/\d+/messages$"
CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
LIMIT = 30  # seconds; every test here ends well before


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def chapter(session: SandboxSession, name: str = "g0v") -> InteractionResult:
    return await session.sandbox.slash(
        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": name}, timeout=10
    )


def callbacks(session: SandboxSession, interaction_id: int) -> list[Exchange]:
    return [e for e in session.sandbox.exchanges if e.path.startswith(f"/interactions/{interaction_id}/")]


def posts(session: SandboxSession) -> list[Exchange]:
    return [
        e
        for e in session.sandbox.exchanges
        if e.method == "POST" and e.route_template == "/channels/{channel_id}/messages"
    ]


async def answered_once(session: SandboxSession, result: InteractionResult) -> None:
    """One interaction response, no follow-up, and the chapter in it."""
    await session.sandbox.settle()
    assert result.record.followup_ids == []
    [message] = result.messages
    assert "g0v" in message.embeds[0]["title"]


async def post_one(session: SandboxSession, key: str) -> None:
    async with session.bot.app.sessions.begin() as db:
        assert await enqueue(
            db,
            kind="test",
            key=key,
            guild_id=session.guild_id,
            channel_id=session.channel_id,
            payload=Payload(content=f"Post {key}"),
            due_at=session.bot.app.clock.now(),
        )


async def settled(session: SandboxSession, *, pending_ok: bool = False) -> Delivery:
    """Run the dispatcher until the one test row is no longer in flight."""
    while True:
        await session.bot.dispatcher.run()
        async with session.bot.app.sessions() as db:
            row = (await db.scalars(select(Delivery).where(Delivery.kind == "test"))).one()
        if row.state == SENT or (pending_ok and row.state == PENDING):
            return row
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("scope", ["global", "user", "shared"])
async def test_a_rate_limited_answer_is_waited_out_and_sent_once(session: SandboxSession, scope: str) -> None:
    session.sandbox.inject("POST", CALLBACK, 429, scope=scope, retry_after=0.2)
    async with asyncio.timeout(LIMIT):
        result = await chapter(session)
    await answered_once(session, result)
    limited, answered = callbacks(session, result.id)
    assert limited.status == 429 and answered.status < 300
    assert limited.response_headers["X-RateLimit-Scope"] == scope
    assert limited.response_json["global"] is (scope == "global")
    assert ("X-RateLimit-Global" in limited.response_headers) is (scope == "global")


@pytest.mark.parametrize("status", [500, 502])
async def test_an_answer_discord_made_but_lost_is_not_answered_twice(
    session: SandboxSession, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Discord made the answer, then its proxy failed: discord.py retries, and Discord says it is already answered.
    session.sandbox.inject("POST", CALLBACK, status, served=True)
    async with asyncio.timeout(LIMIT):
        result = await chapter(session)
        await asyncio.sleep(1.5)  # discord.py's own retry after a 5xx comes a second later
    await answered_once(session, result)
    statuses = [e.status for e in callbacks(session, result.id)]
    assert statuses[0] == status and all(s == 400 for s in statuses[1:]), statuses
    assert "was already answered" in caplog.text and "incident" not in caplog.text
    after = await chapter(session, "Taiwan")  # and the bot goes on answering
    assert "g0v" in after.message.embeds[0]["title"]


async def test_a_post_discord_made_but_whose_answer_was_lost_is_posted_once(session: SandboxSession) -> None:
    session.sandbox.inject("POST", MESSAGES, 502, served=True)
    async with asyncio.timeout(LIMIT):
        await post_one(session, "lost-answer")
        row = await settled(session)
    [message] = session.sandbox.messages(session.channel_id)
    assert row.message_id == message.id and row.attempts == 1
    tries = posts(session)
    assert [e.status for e in tries] == [502, 200]
    assert all(e.request_json["nonce"] == nonce_for(row.id) and e.request_json["enforce_nonce"] for e in tries)


@pytest.mark.parametrize("scope", ["global", "user"])
async def test_a_short_rate_limit_on_a_post_is_retried_with_the_same_nonce(session: SandboxSession, scope: str) -> None:
    session.sandbox.inject("POST", MESSAGES, 429, scope=scope, retry_after=0.1)
    async with asyncio.timeout(LIMIT):
        await post_one(session, "short-limit")
        row = await settled(session)
    assert row.attempts == 1
    assert len(session.sandbox.messages(session.channel_id)) == 1
    assert [e.status for e in posts(session)] == [429, 200]
    assert {e.request_json["nonce"] for e in posts(session)} == {nonce_for(row.id)}


@pytest.mark.parametrize("scope", ["global", "user", "shared"])
async def test_a_long_rate_limit_on_a_post_waits_on_the_bots_clock(
    session: SandboxSession, clock: FakeClock, scope: str
) -> None:
    # Longer than discord.py waits inside a request: the outbox takes it over and waits on the injected clock.
    wait = 120.0
    session.sandbox.inject("POST", MESSAGES, 429, scope=scope, retry_after=wait)
    async with asyncio.timeout(LIMIT):
        await post_one(session, "long-limit")
        row = await settled(session, pending_ok=True)
        assert row.state == PENDING and row.attempts == 1 and row.next_attempt_at == START + timedelta(seconds=wait)
        assert session.sandbox.messages(session.channel_id) == []
        clock.advance(timedelta(seconds=wait - 1))
        assert (await settled(session, pending_ok=True)).state == PENDING
        clock.advance(timedelta(seconds=1))
        row = await settled(session)
    assert row.attempts == 2
    assert len(session.sandbox.messages(session.channel_id)) == 1
    assert {e.request_json["nonce"] for e in posts(session)} == {nonce_for(row.id)}


async def test_an_interaction_lost_with_the_gateway_is_replayed_on_resume_and_answered_once(
    session: SandboxSession,
) -> None:
    session.sandbox.drop_gateway_before("INTERACTION_CREATE")
    async with asyncio.timeout(LIMIT):
        result = await chapter(session)
    await answered_once(session, result)
    assert any(event == "RESUMED" for event, _ in session.sandbox.dispatches)
    [answer] = callbacks(session, result.id)
    assert answer.status < 300


async def test_the_gateway_dropping_while_the_bot_answers_does_not_answer_twice(session: SandboxSession) -> None:
    slow = session.sandbox.inject("POST", CALLBACK, None, delay=0.5)
    async with asyncio.timeout(LIMIT):
        asking = asyncio.create_task(chapter(session))
        while slow.remaining:  # noqa: ASYNC110  (the answer is on its way)
            await asyncio.sleep(0.01)
        await session.sandbox.drop_gateway(resume=True)
        result = await asking
    await answered_once(session, result)
    [answer] = callbacks(session, result.id)
    assert answer.status < 300
    assert [event for event, _ in session.sandbox.dispatches].count("INTERACTION_CREATE") == 1
