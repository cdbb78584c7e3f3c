"""The dispatcher without Discord: a fake sender and a FakeClock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.delivery.dispatcher import NOTICE_KIND, Dispatcher, DispatchPolicy, Outgoing
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.outbox import BELL, FAILED, PENDING, SENDING, SENT, Bell, Payload, enqueue
from db.models import Delivery, GuildSettings

START = datetime(2027, 1, 1, tzinfo=UTC)
GUILD, CHANNEL, ORGANISERS = 1, 100, 999


class FakeSender:
    """Records posts; fails per channel as told."""

    def __init__(self) -> None:
        self.posts: list[Outgoing] = []
        self.follow_ups: list[tuple[int, int]] = []
        self.failures: dict[int, list[Exception]] = {}
        self.follow_up_failures: list[Exception] = []

    async def post(self, item: Outgoing) -> int:
        failures = self.failures.get(item.channel_id)
        if failures:
            raise failures.pop(0) if len(failures) > 1 else failures[0]
        self.posts.append(item)
        return 10_000 + item.id

    async def follow_up(self, item: Outgoing, message_id: int) -> None:
        if self.follow_up_failures:
            raise self.follow_up_failures.pop(0)
        self.follow_ups.append((item.id, message_id))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def dispatcher(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, sender: FakeSender) -> Dispatcher:
    return Dispatcher(sessions, clock, sender, DispatchPolicy(batch_size=10))


async def _add(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    *,
    channel: int = CHANNEL,
    due: datetime = START,
    payload: Payload | None = None,
) -> bool:
    async with sessions.begin() as session:
        return await enqueue(
            session,
            kind="post",
            key=key,
            guild_id=GUILD,
            channel_id=channel,
            payload=payload or Payload(content=key),
            due_at=due,
        )


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[Delivery]:
    async with sessions() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


async def test_the_same_thing_for_the_same_channel_is_enqueued_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await _add(sessions, "entry-1")
    assert not await _add(sessions, "entry-1")
    assert await _add(sessions, "entry-1", channel=CHANNEL + 1)
    long = "x" * 1000
    assert await _add(sessions, long)
    assert not await _add(sessions, long)
    assert len(await _rows(sessions)) == 3


async def test_a_rolled_back_transaction_leaves_no_row_and_rings_no_bell(engine: object) -> None:
    from db.session import create_session_factory

    rings: list[int] = []
    bell = Bell()
    bell.subscribe(lambda: rings.append(1))
    sessions = create_session_factory(engine)  # type: ignore[arg-type]
    sessions.configure(info={BELL: bell})
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            await enqueue(
                session, kind="k", key="a", guild_id=1, channel_id=2, payload=Payload(content="a"), due_at=START
            )
            raise RuntimeError("the discovery failed")
    assert await _rows(sessions) == [] and rings == []
    async with sessions.begin() as session:
        await enqueue(session, kind="k", key="a", guild_id=1, channel_id=2, payload=Payload(content="a"), due_at=START)
    assert rings == [1]


async def test_a_future_row_waits_for_its_time(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, clock: FakeClock, sender: FakeSender
) -> None:
    await _add(sessions, "later", due=START + timedelta(hours=2))
    assert await dispatcher.run() == 0
    assert await dispatcher.earliest_due() == START + timedelta(hours=2)
    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert await dispatcher.run() == 0
    clock.advance(timedelta(seconds=1))
    assert await dispatcher.run() == 1
    assert [p.payload.content for p in sender.posts] == ["later"]
    [row] = await _rows(sessions)
    assert row.state == SENT and row.message_id == 10_000 + row.id and row.sent_at == clock.now()


async def test_rows_of_one_channel_go_out_in_order_and_a_batch_at_a_time(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, sender: FakeSender
) -> None:
    for number in range(25):
        await _add(sessions, f"e{number:02}")
    assert await dispatcher.run() == 25
    assert [p.payload.content for p in sender.posts] == [f"e{n:02}" for n in range(25)]
    assert await dispatcher.run() == 0


async def test_transient_errors_back_off_on_the_clock_then_give_up(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, clock: FakeClock, sender: FakeSender
) -> None:
    sender.failures[CHANNEL] = [TransientDeliveryError("Discord answered 503")]
    await _add(sessions, "flaky")
    policy = dispatcher.policy
    for attempt in range(1, policy.max_attempts):
        assert await dispatcher.run() == 1
        [row] = await _rows(sessions)
        assert row.state == PENDING and row.attempts == attempt
        assert row.next_attempt_at == clock.now() + policy.backoff(attempt)
        assert await dispatcher.run() == 0
        clock.set(row.next_attempt_at)
    assert await dispatcher.run() == 1
    [row] = await _rows(sessions)
    assert row.state == FAILED and "gave up after 10 attempts" in (row.last_error or "")
    assert policy.backoff(3) == timedelta(seconds=40) and policy.backoff(30) == policy.max_backoff


async def test_a_rate_limit_waits_at_least_retry_after(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, clock: FakeClock, sender: FakeSender
) -> None:
    sender.failures[CHANNEL] = [TransientDeliveryError("rate limited", retry_after=120.0), TransientDeliveryError("x")]
    await _add(sessions, "limited")
    await dispatcher.run()
    [row] = await _rows(sessions)
    assert row.next_attempt_at == START + timedelta(seconds=120)
    sender.failures.clear()
    clock.advance(timedelta(seconds=120))
    await dispatcher.run()
    assert len(sender.posts) == 1


async def test_permanent_errors_fail_every_row_and_tell_organisers_once_per_run_of_failures(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, sender: FakeSender
) -> None:
    async with sessions.begin() as session:
        session.add(GuildSettings(guild_id=GUILD, organisers_channel_id=ORGANISERS, locale="de"))
    sender.failures[CHANNEL] = [PermanentDeliveryError("Missing Permissions", code=50013)]
    for number in range(5):
        await _add(sessions, f"p{number}")
    await dispatcher.run()
    rows = await _rows(sessions)
    assert [r.state for r in rows if r.kind == "post"] == [FAILED] * 5
    [notice] = [r for r in rows if r.kind == NOTICE_KIND]
    assert notice.channel_id == ORGANISERS and notice.state == SENT
    assert f"<#{CHANNEL}>" in notice.payload["content"] and "50013" in notice.payload["content"]
    assert "Berechtigungen" in notice.payload["content"]  # the guild's language

    sender.failures.clear()
    await _add(sessions, "fixed")
    await dispatcher.run()
    sender.failures[CHANNEL] = [PermanentDeliveryError("Missing Permissions", code=50013)]
    await _add(sessions, "broken again")
    await dispatcher.run()
    notices = [r for r in await _rows(sessions) if r.kind == NOTICE_KIND]
    assert len(notices) == 2  # a success in between starts a new run of failures


async def test_a_failing_notice_is_not_announced_again(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, sender: FakeSender
) -> None:
    async with sessions.begin() as session:
        session.add(GuildSettings(guild_id=GUILD, organisers_channel_id=ORGANISERS))
    sender.failures[CHANNEL] = [PermanentDeliveryError("Unknown Channel", code=10003)]
    sender.failures[ORGANISERS] = [PermanentDeliveryError("Missing Access", code=50001)]
    await _add(sessions, "p")
    await dispatcher.run()
    assert [(r.kind, r.state) for r in await _rows(sessions)] == [("post", FAILED), (NOTICE_KIND, FAILED)]


async def test_an_expired_claim_is_taken_over_and_the_old_claim_can_no_longer_write(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, clock: FakeClock, sender: FakeSender
) -> None:
    await _add(sessions, "stuck")
    [stale] = await dispatcher.claim(10)
    assert await dispatcher.claim(10) == []
    clock.advance(dispatcher.policy.claim_timeout)
    [fresh] = await dispatcher.claim(10)
    assert fresh.id == stale.id and fresh.attempt == stale.attempt + 1
    await dispatcher.deliver(stale)  # the hung process wakes up, sees its claim is gone and leaves the row alone
    [row] = await _rows(sessions)
    assert row.state == SENDING and row.message_id is None and sender.posts == []
    await dispatcher.deliver(fresh)
    [row] = await _rows(sessions)
    assert row.state == SENT and row.attempts == 2
    assert [p.nonce for p in sender.posts] == [stale.nonce]


async def test_a_posted_row_only_finishes_its_follow_up_when_retried(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, clock: FakeClock, sender: FakeSender
) -> None:
    sender.follow_up_failures = [TransientDeliveryError("Discord answered 502")]
    await _add(sessions, "news", payload=Payload(content="news", crosspost=True))
    await dispatcher.run()
    [row] = await _rows(sessions)
    assert row.state == PENDING and row.message_id is not None and len(sender.posts) == 1
    clock.set(row.next_attempt_at)
    await dispatcher.run()
    [row] = await _rows(sessions)
    assert row.state == SENT and len(sender.posts) == 1 and sender.follow_ups == [(row.id, row.message_id)]


async def test_a_refused_follow_up_keeps_the_post_and_notes_why(
    sessions: async_sessionmaker[AsyncSession], dispatcher: Dispatcher, sender: FakeSender
) -> None:
    sender.follow_up_failures = [PermanentDeliveryError("Missing Permissions", code=50013)]
    await _add(sessions, "thread", payload=Payload(content="t", thread_name="Talk"))
    await dispatcher.run()
    [row] = await _rows(sessions)
    assert row.state == SENT and row.last_error == "Missing Permissions"


async def test_two_dispatchers_never_send_the_same_row(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    senders = [FakeSender(), FakeSender()]
    dispatchers = [Dispatcher(sessions, clock, s, DispatchPolicy(batch_size=7)) for s in senders]
    for number in range(60):
        await _add(sessions, f"r{number}", channel=CHANNEL + number % 6)
    await asyncio.gather(*(d.run() for d in dispatchers))
    sent = [p.id for s in senders for p in s.posts]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 60
    assert {r.state for r in await _rows(sessions)} == {SENT}


def test_a_payload_refuses_what_discord_would() -> None:
    with pytest.raises(ValueError):
        Payload()
    with pytest.raises(ValueError):
        Payload(content="x" * 2001)
    with pytest.raises(ValueError):
        Payload(content="x", thread_name="")
    payload = Payload(content="x", embeds=[{"title": "t"}], mention_role_id=5, crosspost=True, thread_name="n")
    assert Payload.from_json(payload.to_json()) == payload
