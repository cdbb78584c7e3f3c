"""Feeds through Discord: organisers follow a blog, and each new post reaches the channel once, pinging nobody."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import Clock, FakeClock
from bot.feeds import diff
from bot.offline import SandboxSession
from bot.sandbox import permissions as perm
from tests.feeds.server import FeedServer, item

START = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    """The bot's clock, moved by the tests."""
    return FakeClock(START)


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


async def add(session: SandboxSession, url: str, channel_id: int | None = None, **options: object) -> str:
    result = await session.sandbox.slash(
        session.guild_id,
        session.channel_id,
        session.organiser_id,
        "feeds add",
        {"url": url, "channel": channel_id or session.channel_id, **options},
        timeout=15,
    )
    assert result.message.ephemeral
    return result.message.content


async def poll(session: SandboxSession) -> None:
    """Move the bot's clock past the poll interval and run one poll cycle, as the scheduled job does."""
    clock = session.bot.app.clock
    assert isinstance(clock, FakeClock)
    clock.advance(diff.POLL_INTERVAL + timedelta(seconds=1))
    await session.bot.app.feeds.poll_due()


def posts(session: SandboxSession, channel_id: int) -> list[object]:
    return [
        m
        for m in session.sandbox.messages(channel_id)
        if session.bot.user is not None and m.author_id == session.bot.user.id
    ]


async def test_a_new_post_is_announced_once_and_pings_nobody(session: SandboxSession, feed_server: FeedServer) -> None:
    served, url = feed_server.feed("blog", [item(1, START - timedelta(hours=1))])
    reply = await add(session, url)
    assert "Following" in reply and "blog" in reply
    await poll(session)
    await asyncio.sleep(0.3)
    assert posts(session, session.channel_id) == []  # the first read only learned
    served.items.insert(0, item(2, START, summary="<p>@everyone <script>alert(1)</script>come</p>"))
    served.items[0].title = "@everyone free pizza <@&1>"
    await poll(session)
    message = await session.sandbox.wait_for_message(session.channel_id, timeout=10)
    embed = message.embeds[0]
    assert "pizza" in embed["title"] and "@everyone" not in embed["title"]
    assert "script" not in embed.get("description", "")
    assert not message.payload.get("mention_everyone") and message.payload["mention_roles"] == []
    assert message.payload["mentions"] == []
    served.items[0].summary = "<p>Edited</p>"
    await poll(session)
    await poll(session)
    await asyncio.sleep(0.5)
    assert len(posts(session, session.channel_id)) == 1


async def test_filters_hold(session: SandboxSession, feed_server: FeedServer) -> None:
    served, url = feed_server.feed("blog", [])
    await add(session, url, include="hackathon", exclude="cancelled")
    served.items[:0] = [
        item(1, START, summary="<p>Board minutes</p>"),
        item(2, START, summary="<p>Hackathon cancelled</p>"),
        item(3, START, summary="<p>A hackathon in Cluj</p>"),
    ]
    await poll(session)
    message = await session.sandbox.wait_for_message(session.channel_id, timeout=10)
    assert message.embeds[0]["title"] == "Post 3"
    await asyncio.sleep(0.5)
    assert len(posts(session, session.channel_id)) == 1


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("not a url", "not a web address"),
        ("/page", "Feeds found on it"),
        ("/status/500", "HTTP status 500"),
        ("/malformed", "not an RSS or Atom feed"),
        ("/loop/0", "redirected more than"),
        ("/huge", "larger than 5 MB"),
    ],
)
async def test_bad_feeds_get_a_sentence_and_nothing_is_saved(
    session: SandboxSession, feed_server: FeedServer, path: str, words: str
) -> None:
    url = feed_server.url(path) if path.startswith("/") else path
    assert words in await add(session, url)
    assert await session.bot.app.feeds.subscriptions(session.guild_id) == []


async def test_a_duplicate_an_overlong_template_and_a_closed_channel_are_refused(
    session: SandboxSession, feed_server: FeedServer
) -> None:
    _, url = feed_server.feed("blog", [item(1, START)])
    await add(session, url)
    assert "already follows" in await add(session, url)
    assert "at most 1000 characters" in await add(session, url, template="x" * 1500, thread=True)
    closed = session.sandbox.create_channel(session.guild_id, "closed")
    session.sandbox.set_overwrite(closed.id, session.sandbox.bot_role(session.guild_id).id, deny=perm.SEND_MESSAGES)
    assert "I cannot post in" in await add(session, url, channel_id=closed.id)
    assert len(await session.bot.app.feeds.subscriptions(session.guild_id)) == 1


async def test_a_plain_member_cannot_manage_feeds(session: SandboxSession, feed_server: FeedServer) -> None:
    _, url = feed_server.feed("blog", [item(1, START)])
    for command, options in (("feeds add", {"url": url, "channel": session.channel_id}), ("feeds list", {})):
        result = await session.sandbox.slash(
            session.guild_id, session.channel_id, session.member_id, command, options, timeout=10
        )
        assert result.message.ephemeral and "Only organisers" in result.message.content
    assert await session.bot.app.feeds.subscriptions(session.guild_id) == []


async def test_list_status_test_and_remove(session: SandboxSession, feed_server: FeedServer) -> None:
    _, url = feed_server.feed("blog", [item(1, START, summary="<p>Hello <b>network</b></p>")])
    await add(session, url)
    sub = (await session.bot.app.feeds.subscriptions(session.guild_id))[0]
    sandbox, g, c, o = session.sandbox, session.guild_id, session.channel_id, session.organiser_id
    listed = await sandbox.slash(g, c, o, "feeds list", {}, timeout=10)
    assert f"#{sub.id}" in listed.message.content and url in listed.message.content
    status = await sandbox.slash(g, c, o, "feeds status", {}, timeout=10)
    assert "failures in a row: 0" in status.message.content
    preview = await sandbox.slash(g, c, o, "feeds test", {"subscription": sub.id}, timeout=10)
    assert preview.message.ephemeral and preview.message.embeds[0]["description"] == "Hello **network**"
    assert posts(session, c) == []
    found = await sandbox.slash(g, c, o, "feeds find", {"site-url": feed_server.url("/page")}, timeout=10)
    assert feed_server.url("/feeds/blog") in found.message.content
    removed = await sandbox.slash(g, c, o, "feeds remove", {"subscription": sub.id}, timeout=10)
    assert "no longer follows" in removed.message.content
    assert await session.bot.app.feeds.subscriptions(g) == []


async def test_a_hanging_feed_delays_neither_other_feeds_nor_commands(
    session: SandboxSession, feed_server: FeedServer
) -> None:
    served, url = feed_server.feed("blog", [])
    _, hanging_url = feed_server.feed("hanging", [])
    await add(session, url)
    await add(session, hanging_url)
    feed_server.slow_paths.add("/feeds/hanging")
    served.items.append(item(1, START))
    cycle = asyncio.create_task(poll(session))
    message = await session.sandbox.wait_for_message(session.channel_id, timeout=10)
    assert message.embeds[0]["title"] == "Post 1" and not cycle.done()
    listed = await session.sandbox.slash(
        session.guild_id, session.channel_id, session.organiser_id, "feeds list", {}, timeout=5
    )
    assert "hanging" in listed.message.content and not cycle.done()
    cycle.cancel()
    await asyncio.gather(cycle, return_exceptions=True)
