"""Feed entries into every kind of target, through the sandbox with the real bot: forum posts, threads,
announcement channels with crossposting, and a thread per entry; each exactly once across crashes and restarts.

A crash is a `Crash` raised by the sender right after a step reached Discord: nothing catches it, so the row stays
as a killed process would leave it, and a new bot on the same database and sandbox state picks it up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.delivery.dispatcher import NOTICE_KIND, Dispatcher, Outgoing, Sender
from bot.delivery.outbox import FAILED, PENDING, SENDING, SENT
from bot.feeds import diff
from bot.feeds.service import KIND
from bot.offline import SandboxSession, start_session
from bot.sandbox import Sandbox, SentMessage
from bot.sandbox import permissions as perm
from bot.sandbox.rest import Exchange
from bot.sandbox.state import CHANNEL_FLAG_REQUIRE_TAG, FLAG_CROSSPOSTED
from db.models import Delivery
from tests.feeds.server import FeedServer, Item, item
from tests.leases import HeldElsewhere
from tests.openapi_validator import exchange_violations, format_report

START = datetime(2026, 1, 1, 12, tzinfo=UTC)
# 300 characters of whole words: a thread name (at most 100) must end on a word, with an ellipsis.
LONG_TITLE = " ".join(f"part{n:03d}" for n in range(37)) + " end."
TAG_REQUIRED, THREAD_ARCHIVED, ALREADY_CROSSPOSTED, THREAD_ALREADY_CREATED = 40067, 50083, 40033, 160004


class Crash(BaseException):
    """The process dies here: the dispatcher catches no BaseException, so nothing after this point is written."""


class Interrupted:
    """The bot's sender, interrupted by `error` right after `step` ('post' or 'follow_up') reached Discord;
    'posted' interrupts before the follow-up, once the message id was recorded."""

    def __init__(self, sender: Sender, step: str, error: BaseException) -> None:
        self._sender, self._step, self._error = sender, step, error

    async def post(self, item: Outgoing) -> int:
        message_id = await self._sender.post(item)
        if self._step == "post":
            raise self._error
        return message_id

    async def follow_up(self, item: Outgoing, message_id: int) -> None:
        if self._step == "posted":
            raise self._error
        await self._sender.follow_up(item, message_id)
        if self._step == "follow_up":
            raise self._error


@pytest.fixture
def clock() -> FakeClock:
    """The bot's clock, moved by the tests (one clock for a bot and the bot that replaces it)."""
    return FakeClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)


@pytest.fixture
async def first(settings: Settings, clock: FakeClock) -> AsyncIterator[SandboxSession]:
    """A bot that the test will crash and replace (`restart`); stopped here if the test did not get that far."""
    running = await start_session(settings, clock=clock)
    yield running
    if not running.bot.is_closed():
        await running.stop()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


def entry(n: int, title: str | None = None, **fields: object) -> Item:
    """Entry number `n`, published now, titled "Post n" unless given a title."""
    made = item(n, START, **fields)
    made.title = title or made.title
    return made


async def add(session: SandboxSession, url: str, channel_id: int, **options: object) -> str:
    """Run `/feeds add` as the organiser; the (ephemeral) answer."""
    result = await session.sandbox.slash(
        session.guild_id,
        session.channel_id,
        session.organiser_id,
        "feeds add",
        {"url": url, "channel": channel_id, **options},
        timeout=15,
    )
    assert result.message.ephemeral
    return result.message.content


async def subscribe(session: SandboxSession, url: str, channel_id: int, **options: object) -> str:
    """Follow the feed in `channel_id`; the subscription's mode."""
    assert "Following" in await add(session, url, channel_id, **options)
    [sub] = [s for s in await session.bot.app.feeds.subscriptions(session.guild_id) if s.channel_id == channel_id]
    return sub.mode


async def poll(session: SandboxSession, clock: FakeClock) -> None:
    """Move the clock past the poll interval and run one poll cycle, as the scheduled job does."""
    clock.advance(diff.POLL_INTERVAL + timedelta(seconds=1))
    await session.bot.app.feeds.poll_due()


async def rows(session: SandboxSession, kind: str = KIND) -> list[Delivery]:
    async with session.bot.app.sessions() as db:
        return list((await db.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id))).all())


async def settle(session: SandboxSession) -> list[Delivery]:
    """Run the dispatcher until no row waits or is in flight (notices included); the feed's rows."""
    dispatcher = session.bot.dispatcher
    for _ in range(20):
        await dispatcher.idle()  # a run the bell started may be sending still
        await dispatcher.run()
        async with session.bot.app.sessions() as db:
            busy = await db.scalar(select(Delivery.id).where(Delivery.state.in_((PENDING, SENDING))))
        if busy is None:
            return await rows(session)
    raise AssertionError([(r.id, r.state, r.last_error) for r in await rows(session)])


def stand_by(session: SandboxSession) -> None:
    """Keep the scheduled dispatcher from sending: the test delivers the rows itself."""
    session.bot.scheduler.leadership = HeldElsewhere()


async def crash_delivering(session: SandboxSession, step: str) -> None:
    """Claim the one due feed entry and die right after `step` reached Discord."""
    dispatcher = session.bot.dispatcher
    [claimed] = await dispatcher.claim(10)
    dying = Dispatcher(dispatcher.sessions, dispatcher.clock, Interrupted(dispatcher.sender, step, Crash()))
    with pytest.raises(Crash):
        await dying.deliver(claimed)


async def restart(first: SandboxSession, settings: Settings, clock: FakeClock) -> SandboxSession:
    """Stop the bot (its sandbox exchanges checked) and start a new one on the same database and Discord state,
    once the dead process's claim has expired."""
    await first.stop()
    assert_spec(first.sandbox.exchanges)
    clock.advance(first.bot.dispatcher.policy.claim_timeout + timedelta(seconds=1))
    return await start_session(settings, sandbox=Sandbox(first.sandbox.state), clock=clock)


def assert_spec(exchanges: list[Exchange]) -> None:
    violations = exchange_violations(exchanges)
    assert not violations, format_report(violations)


def bot_messages(session: SandboxSession, channel_id: int) -> list[SentMessage]:
    return [m for m in session.sandbox.messages(channel_id) if m.author_id == session.sandbox.state.bot_id]


def calls(exchanges: list[Exchange], method: str, route: str) -> list[Exchange]:
    return [e for e in exchanges if e.method == method and e.route_template == route]


def error_code(exchange: Exchange) -> int | None:
    body = exchange.response_json
    return int(body["code"]) if isinstance(body, dict) and "code" in body else None


def cleanly_cut(name: str, title: str) -> bool:
    """A thread name within Discord's 100 characters: the title itself, or its first whole words and an ellipsis."""
    if len(name) > 100:
        return False
    if name == title:
        return True
    kept = name.removesuffix("…")
    return kept != name and title.startswith(kept) and title[len(kept)] == " " and not kept.endswith(" ")


# --- forum channels ---------------------------------------------------------------------------------------


async def test_each_new_entry_becomes_one_forum_post_named_after_its_title(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    forum = session.sandbox.create_forum(session.guild_id, "blog-posts", ["news"])
    served, url = feed_server.feed("blog", [item(1, START - timedelta(hours=1))])
    assert await subscribe(session, url, forum.id) == "thread"
    served.items[:0] = [entry(3, title=LONG_TITLE), entry(2, summary="<p>Short and sweet</p>")]
    await poll(session, clock)
    assert [r.state for r in await settle(session)] == [SENT, SENT]

    short, long = session.sandbox.threads(forum.id)
    assert short.name == "Post 2"
    assert cleanly_cut(long.name, LONG_TITLE) and long.name != LONG_TITLE and len(long.name) > 60
    for thread, title in ((short, "Post 2"), (long, LONG_TITLE)):
        [starter] = session.sandbox.messages(thread.id)
        assert starter.id == thread.id and starter.author_id == session.sandbox.state.bot_id
        assert starter.embeds[0]["title"][:50] == title[:50]
    assert session.sandbox.messages(short.id)[0].embeds[0]["description"] == "Short and sweet"

    await poll(session, clock)
    await settle(session)
    assert len(session.sandbox.threads(forum.id)) == 2


async def test_a_forum_post_whose_answer_was_lost_is_not_posted_again(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    forum = session.sandbox.create_forum(session.guild_id, "blog-posts")
    served, url = feed_server.feed("blog", [])
    await subscribe(session, url, forum.id)
    served.items.insert(0, entry(1, title="Weekly notes"))
    await poll(session, clock)
    await settle(session)
    stand_by(session)
    # The next entry has the same title: a post of its own, which the lookup after the lost answer must not take.
    served.items.insert(0, entry(2, title="Weekly notes", summary="<p>Week two</p>"))
    await poll(session, clock)
    dispatcher = session.bot.dispatcher
    [claimed] = await dispatcher.claim(10)
    lost = Dispatcher(
        dispatcher.sessions,
        clock,
        Interrupted(dispatcher.sender, "post", TimeoutError()),
        dispatcher.policy,
    )
    await lost.deliver(claimed)  # Discord made the post, the answer never came: retried later
    [_, row] = await rows(session)
    assert row.state == PENDING and row.message_id is None
    clock.advance(dispatcher.policy.first_backoff)
    [first, second] = await settle(session)
    threads = session.sandbox.threads(forum.id)
    assert [t.name for t in threads] == ["Weekly notes", "Weekly notes"]
    assert (first.message_id, second.message_id) == (threads[0].id, threads[1].id)
    assert second.state == SENT and second.attempts == 2
    assert session.sandbox.messages(threads[1].id)[0].embeds[0]["description"] == "Week two"


async def test_a_forum_post_is_not_posted_again_after_a_restart(
    first: SandboxSession, settings: Settings, feed_server: FeedServer, clock: FakeClock
) -> None:
    forum = first.sandbox.create_forum(first.guild_id, "blog-posts")
    served, url = feed_server.feed("blog", [])
    await subscribe(first, url, forum.id)
    stand_by(first)
    served.items.insert(0, entry(1))
    await poll(first, clock)
    await crash_delivering(first, "post")
    [made] = first.sandbox.threads(forum.id)
    # While the bot is down the post archives itself: the new bot finds it among the archived ones.
    first.sandbox.world.update_thread(first.sandbox.state.guilds[first.guild_id], made, {"archived": True})

    second = await restart(first, settings, clock)
    try:
        [row] = await settle(second)
        assert row.state == SENT and row.message_id == made.id and row.attempts == 2
        await poll(second, clock)
        await settle(second)
        assert second.sandbox.threads(forum.id) == [made]
        assert len(second.sandbox.messages(made.id)) == 1
        lookups = calls(second.sandbox.exchanges, "GET", "/channels/{channel_id}/threads/archived/public")
        assert [e.status for e in lookups] == [200]
    finally:
        await second.stop()
    assert_spec(second.sandbox.exchanges)


async def test_a_forum_that_requires_a_tag_is_refused_and_organisers_hear_of_it_once(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    sandbox = session.sandbox
    organisers = sandbox.create_channel(session.guild_id, "organisers")
    await session.bot.guild_settings.update(session.guild_id, organisers_channel_id=organisers.id)
    tagged = sandbox.create_forum(session.guild_id, "tagged", ["news"], require_tag=True)
    served, url = feed_server.feed("blog", [])
    assert "requires a tag" in await add(session, url, tagged.id)
    assert await session.bot.app.feeds.subscriptions(session.guild_id) == []

    forum = sandbox.create_forum(session.guild_id, "blog-posts", ["news"])
    await subscribe(session, url, forum.id)
    sandbox.world.update_channel(sandbox.state.guilds[session.guild_id], forum, {"flags": CHANNEL_FLAG_REQUIRE_TAG})
    served.items[:0] = [entry(2), entry(1)]
    await poll(session, clock)
    await settle(session)
    served.items.insert(0, entry(3))
    await poll(session, clock)
    failed = await settle(session)

    assert [(r.state, r.attempts) for r in failed] == [(FAILED, 1)] * 3  # refused, not retried
    refusals = calls(sandbox.exchanges, "POST", "/channels/{channel_id}/threads")
    assert [(e.status, error_code(e)) for e in refusals] == [(400, TAG_REQUIRED)] * 3
    assert sandbox.threads(forum.id) == []
    [told] = bot_messages(session, organisers.id)
    assert (
        f"<#{forum.id}>" in told.content
        and "select tags when posting" in told.content
        and str(TAG_REQUIRED) in told.content
    )
    assert [r.state for r in await rows(session, NOTICE_KIND)] == [SENT]


# --- threads as the target --------------------------------------------------------------------------------


async def test_a_subscription_into_a_thread_posts_there_and_unarchives_it(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    sandbox = session.sandbox
    guild = sandbox.state.guilds[session.guild_id]
    thread = sandbox.start_thread(session.channel_id, session.organiser_id, "Blog posts")
    served, url = feed_server.feed("blog", [])
    assert await subscribe(session, url, thread.id) == "post"
    served.items.insert(0, entry(1))
    await poll(session, clock)
    await settle(session)
    [first] = bot_messages(session, thread.id)
    assert first.embeds[0]["title"] == "Post 1"

    sandbox.world.update_thread(guild, thread, {"archived": True})
    served.items.insert(0, entry(2))
    await poll(session, clock)
    assert [r.state for r in await settle(session)] == [SENT, SENT]
    assert [m.embeds[0]["title"] for m in bot_messages(session, thread.id)] == ["Post 1", "Post 2"]
    assert thread.thread is not None and not thread.thread.archived
    assert bot_messages(session, session.channel_id) == []

    archived = sandbox.start_thread(session.channel_id, session.organiser_id, "Archive")
    sandbox.world.update_thread(guild, archived, {"archived": True})
    assert await subscribe(session, url, archived.id) == "post"
    assert "cannot open threads" in await add(session, feed_server.feed("other", [])[1], thread.id, thread=True)


async def test_a_locked_archived_thread_refuses_and_organisers_are_told_once(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    sandbox = session.sandbox
    guild = sandbox.state.guilds[session.guild_id]
    organisers = sandbox.create_channel(session.guild_id, "organisers")
    await session.bot.guild_settings.update(session.guild_id, organisers_channel_id=organisers.id)
    # Only Manage Threads may send in (and so reopen) a locked thread: the bot does not hold it here.
    sandbox.set_overwrite(session.channel_id, sandbox.bot_role(session.guild_id).id, deny=perm.MANAGE_THREADS)
    thread = sandbox.start_thread(session.channel_id, session.organiser_id, "Blog posts")
    served, url = feed_server.feed("blog", [])
    await subscribe(session, url, thread.id)
    sandbox.world.update_thread(guild, thread, {"archived": True, "locked": True})
    served.items[:0] = [entry(2), entry(1)]
    await poll(session, clock)
    await settle(session)
    served.items.insert(0, entry(3))
    await poll(session, clock)
    failed = await settle(session)

    assert [(r.state, r.attempts) for r in failed] == [(FAILED, 1)] * 3
    sends = calls(sandbox.exchanges, "POST", "/channels/{channel_id}/messages")
    assert [(e.status, error_code(e)) for e in sends if e.path == f"/channels/{thread.id}/messages"] == [
        (400, THREAD_ARCHIVED)
    ] * 3
    assert bot_messages(session, thread.id) == []
    [told] = bot_messages(session, organisers.id)
    assert f"<#{thread.id}>" in told.content and "locked" in told.content and str(THREAD_ARCHIVED) in told.content

    other = sandbox.start_thread(session.channel_id, session.organiser_id, "Closed")
    sandbox.world.update_thread(guild, other, {"archived": True, "locked": True})
    assert "locked" in await add(session, feed_server.feed("other", [])[1], other.id)


# --- announcement channels: crossposted once ------------------------------------------------------------


async def test_an_entry_in_an_announcement_channel_is_published_once(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    news = session.sandbox.create_announcement_channel(session.guild_id, "news")
    served, url = feed_server.feed("blog", [])
    assert await subscribe(session, url, news.id) == "crosspost"
    served.items.insert(0, entry(1))
    await poll(session, clock)
    await settle(session)
    await poll(session, clock)
    [row] = await settle(session)
    [message] = bot_messages(session, news.id)
    assert message.flags & FLAG_CROSSPOSTED and row.message_id == message.id and row.last_error is None
    [crosspost] = calls(session.sandbox.exchanges, "POST", "/channels/{channel_id}/messages/{message_id}/crosspost")
    assert crosspost.status == 200


@pytest.mark.parametrize("step", ["posted", "follow_up"])
async def test_a_restart_between_post_and_crosspost_publishes_once(
    first: SandboxSession, settings: Settings, feed_server: FeedServer, clock: FakeClock, step: str
) -> None:
    news = first.sandbox.create_announcement_channel(first.guild_id, "news")
    served, url = feed_server.feed("blog", [])
    await subscribe(first, url, news.id)
    stand_by(first)
    served.items.insert(0, entry(1))
    await poll(first, clock)
    await crash_delivering(first, step)

    second = await restart(first, settings, clock)
    try:
        [row] = await settle(second)
        [message] = bot_messages(second, news.id)
        assert row.state == SENT and row.message_id == message.id and row.last_error is None
        assert message.flags & FLAG_CROSSPOSTED
        route = "/channels/{channel_id}/messages/{message_id}/crosspost"
        answers = [
            (e.status, error_code(e)) for e in calls(first.sandbox.exchanges + second.sandbox.exchanges, "POST", route)
        ]
        # Published once; a second request after a crash past the publish is answered "already crossposted".
        assert answers == ([(200, None)] if step == "posted" else [(200, None), (400, ALREADY_CROSSPOSTED)])
    finally:
        await second.stop()
    assert_spec(second.sandbox.exchanges)


# --- a thread per entry in a text channel ---------------------------------------------------------------


async def test_thread_mode_opens_one_thread_on_each_posted_entry(
    session: SandboxSession, feed_server: FeedServer, clock: FakeClock
) -> None:
    served, url = feed_server.feed("blog", [])
    assert await subscribe(session, url, session.channel_id, thread=True) == "thread"
    served.items[:0] = [entry(2, title=LONG_TITLE), entry(1)]
    await poll(session, clock)
    await settle(session)
    await poll(session, clock)
    await settle(session)
    messages = bot_messages(session, session.channel_id)
    threads = session.sandbox.threads(session.channel_id)
    assert [t.id for t in threads] == [m.id for m in messages] and len(threads) == 2
    assert threads[0].name == "Post 1" and cleanly_cut(threads[1].name, LONG_TITLE)


@pytest.mark.parametrize("step", ["posted", "follow_up"])
async def test_a_restart_between_post_and_thread_opens_one_thread(
    first: SandboxSession, settings: Settings, feed_server: FeedServer, clock: FakeClock, step: str
) -> None:
    served, url = feed_server.feed("blog", [])
    await subscribe(first, url, first.channel_id, thread=True)
    stand_by(first)
    served.items.insert(0, entry(1))
    await poll(first, clock)
    await crash_delivering(first, step)

    second = await restart(first, settings, clock)
    try:
        [row] = await settle(second)
        [message] = bot_messages(second, first.channel_id)
        [thread] = second.sandbox.threads(first.channel_id)
        assert row.state == SENT and row.message_id == message.id == thread.id and row.last_error is None
        assert thread.name == "Post 1"
        route = "/channels/{channel_id}/messages/{message_id}/threads"
        answers = [
            (e.status, error_code(e)) for e in calls(first.sandbox.exchanges + second.sandbox.exchanges, "POST", route)
        ]
        assert answers == ([(201, None)] if step == "posted" else [(201, None), (400, THREAD_ALREADY_CREATED)])
    finally:
        await second.stop()
    assert_spec(second.sandbox.exchanges)
