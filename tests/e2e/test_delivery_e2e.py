"""The outbox through the sandbox with the real bot: each delivery posted once, with its nonce, pinging no one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.delivery.dispatcher import NOTICE_KIND
from bot.delivery.outbox import FAILED, PENDING, SENT, Payload, enqueue, nonce_for
from bot.offline import SandboxSession
from bot.sandbox import permissions as perm
from bot.sandbox.state import CHANNEL_ANNOUNCEMENT, FLAG_CROSSPOSTED
from db.models import Delivery
from tests.leases import HeldElsewhere

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _enqueue(session: SandboxSession, channel_id: int, key: str, payload: Payload) -> None:
    async with session.bot.app.sessions.begin() as db:
        assert await enqueue(
            db,
            kind="test",
            key=key,
            guild_id=session.guild_id,
            channel_id=channel_id,
            payload=payload,
            due_at=session.bot.app.clock.now(),
        )


async def _rows(session: SandboxSession) -> list[Delivery]:
    async with session.bot.app.sessions() as db:
        return list((await db.scalars(select(Delivery).order_by(Delivery.id))).all())


async def _settled(session: SandboxSession, *, pending_ok: bool = False) -> list[Delivery]:
    """Run the dispatcher until no row is in flight, then return the rows."""
    for _ in range(100):
        await session.bot.dispatcher.run()
        rows = await _rows(session)
        if all(r.state in (SENT, FAILED) or (pending_ok and r.state == PENDING) for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError([(r.id, r.state) for r in rows])


def _posts(session: SandboxSession) -> list[dict[str, object]]:
    return [
        e.request_json
        for e in session.sandbox.exchanges
        if e.method == "POST" and e.route_template == "/channels/{channel_id}/messages"
    ]


async def test_a_delivery_is_posted_once_with_its_nonce(session: SandboxSession) -> None:
    await _enqueue(session, session.channel_id, "hello", Payload(content="Hello, network"))
    message = await session.sandbox.wait_for_message(session.channel_id, author_id=session.sandbox.state.bot_id)
    assert message.content == "Hello, network"
    [row] = await _settled(session)
    assert row.state == SENT and row.message_id == message.id and row.attempts == 1
    [body] = _posts(session)
    assert body["nonce"] == nonce_for(row.id) and body["enforce_nonce"] is True
    assert len(session.sandbox.messages(session.channel_id)) == 1


async def test_a_resend_after_a_crash_returns_the_first_message(session: SandboxSession, clock: FakeClock) -> None:
    dispatcher = session.bot.dispatcher
    await session.bot.scheduler.leadership.release()
    session.bot.scheduler.leadership = HeldElsewhere()  # the scheduled job stands by; the test drives the dispatcher
    await _enqueue(session, session.channel_id, "crash", Payload(content="Sent just before the crash"))
    [item] = await dispatcher.claim(10)
    first = await dispatcher.sender.post(item)  # posted, then the process "dies" before recording it
    [row] = await _rows(session)
    assert row.state == "sending" and row.message_id is None

    assert await dispatcher.run() == 0  # the claim still holds
    clock.advance(dispatcher.policy.claim_timeout + timedelta(seconds=1))
    assert await dispatcher.run() == 1
    [row] = await _rows(session)
    assert row.state == SENT and row.message_id == first and row.attempts == 2
    assert [m.id for m in session.sandbox.messages(session.channel_id)] == [first]
    assert [b["nonce"] for b in _posts(session)] == [nonce_for(row.id)] * 2


async def test_missing_permissions_fail_the_rows_and_tell_organisers_once(session: SandboxSession) -> None:
    sandbox = session.sandbox
    locked = sandbox.create_channel(session.guild_id, "locked")
    organisers = sandbox.create_channel(session.guild_id, "organisers")
    sandbox.set_overwrite(locked.id, sandbox.bot_role(session.guild_id).id, deny=perm.SEND_MESSAGES)
    await session.bot.guild_settings.update(session.guild_id, organisers_channel_id=organisers.id)
    for number in range(5):
        await _enqueue(session, locked.id, f"post-{number}", Payload(content=f"Post {number}"))
    rows = await _settled(session)
    failed = [r for r in rows if r.kind == "test"]
    assert [r.state for r in failed] == [FAILED] * 5
    assert all("Missing Permissions" in (r.last_error or "") for r in failed)
    [notice] = [r for r in rows if r.kind == NOTICE_KIND]
    assert notice.state == SENT
    [told] = sandbox.messages(organisers.id)
    assert f"<#{locked.id}>" in told.content and "50013" in told.content
    assert sandbox.messages(locked.id) == []


async def test_everyone_in_text_pings_nobody_and_a_named_role_is_the_only_mention(session: SandboxSession) -> None:
    sandbox = session.sandbox
    volunteers = sandbox.create_role(session.guild_id, "volunteers")
    other = sandbox.create_role(session.guild_id, "other")
    hostile = f"@everyone @here <@{session.member_id}> <@&{other.id}>"
    await _enqueue(session, session.channel_id, "quiet", Payload(content=hostile, embeds=[{"title": "@everyone"}]))
    await _enqueue(
        session,
        session.channel_id,
        "loud",
        Payload(content=f"<@&{volunteers.id}> {hostile}", mention_role_id=volunteers.id),
    )
    await _settled(session)
    # Two rows may go out in either order when the bell's run and this test's run overlap: match by content.
    posts = sorted(_posts(session), key=lambda post: str(post["content"]).startswith(f"<@&{volunteers.id}>"))
    quiet, loud = posts
    assert quiet["allowed_mentions"] == {"parse": []}
    assert loud["allowed_mentions"] == {"parse": [], "roles": [volunteers.id]}
    stored = sorted(sandbox.messages(session.channel_id), key=lambda m: bool(m.payload["mention_roles"]))
    first, second = stored
    assert first.payload["mentions"] == [] and first.payload["mention_roles"] == []
    assert second.payload["mentions"] == [] and second.payload["mention_roles"] == [str(volunteers.id)]


async def test_posts_in_an_announcement_channel_are_crossposted(session: SandboxSession) -> None:
    news = session.sandbox.create_channel(session.guild_id, "news", CHANNEL_ANNOUNCEMENT)
    await _enqueue(session, news.id, "news", Payload(content="Big news", crosspost=True))
    await _enqueue(session, session.channel_id, "plain", Payload(content="Not news", crosspost=True))
    await _settled(session)
    [published] = session.sandbox.messages(news.id)
    assert published.flags & FLAG_CROSSPOSTED
    [plain] = session.sandbox.messages(session.channel_id)
    assert not plain.flags & FLAG_CROSSPOSTED


async def test_server_errors_are_retried_later_on_the_clock(session: SandboxSession, clock: FakeClock) -> None:
    session.sandbox.inject("POST", r"^/channels/\d+/messages$", status=503, times=1)
    await _enqueue(session, session.channel_id, "retry", Payload(content="Eventually"))
    [row] = await _settled(session, pending_ok=True)
    assert row.state == PENDING and row.attempts == 1 and "503" in (row.last_error or "")
    assert row.next_attempt_at == START + session.bot.dispatcher.policy.first_backoff
    assert session.sandbox.messages(session.channel_id) == []
    clock.advance(session.bot.dispatcher.policy.first_backoff)
    [row] = await _settled(session)
    assert row.state == SENT and row.attempts == 2
    assert len(session.sandbox.messages(session.channel_id)) == 1
