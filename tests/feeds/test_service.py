"""Subscriptions and the poll cycle against a local feed server and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FakeClock
from bot.directory.service import DirectoryService
from bot.errors import NotFound, UserError
from bot.feeds import diff
from bot.feeds.fetch import Fetcher, FetchError
from bot.feeds.parse import NotAFeed
from bot.feeds.service import DISABLED, KIND, NOTICE, WARNING, FeedService
from bot.guilds.settings import GuildSettingsService
from db.models import Delivery, Feed, FeedEntry
from tests.feeds.server import FeedServer, item

GUILD, CHANNEL, OTHER_CHANNEL, ORGANISERS, ACTOR = 1, 10, 11, 99, 5
START = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
async def service(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[FeedService]:
    fetcher = Fetcher(allow_private=True, timeout=1)
    guilds = GuildSettingsService(sessions)
    await guilds.update(GUILD, organisers_channel_id=ORGANISERS)
    yield FeedService(sessions, FakeClock(START), fetcher, DirectoryService(sessions), guilds)
    await fetcher.close()


def clock(service: FeedService) -> FakeClock:
    moved = service._clock
    assert isinstance(moved, FakeClock)
    return moved


async def deliveries(sessions: async_sessionmaker[AsyncSession], kind: str = KIND) -> list[Delivery]:
    async with sessions() as session:
        return list(await session.scalars(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id)))


async def later(service: FeedService) -> None:
    clock(service).advance(diff.POLL_INTERVAL + timedelta(seconds=1))


async def test_the_first_read_learns_and_only_new_posts_are_enqueued_once(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    served, url = feed_server.feed("blog", [item(2, START - timedelta(hours=2)), item(1, START - timedelta(hours=3))])
    sub, parsed = await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    assert len(parsed.entries) == 2 and sub.title == "blog"
    assert (await service.poll_due()).announced == 0  # not due yet
    await later(service)
    assert (await service.poll_due()).announced == 0 and served.not_modified == 1
    served.items.insert(0, item(3, START))
    await later(service)
    report = await service.poll_due()
    assert report.announced == 1
    rows = await deliveries(sessions)
    assert [r.channel_id for r in rows] == [CHANNEL]
    assert rows[0].payload["embeds"][0]["title"] == "Post 3"
    # An edit (new summary, same guid) and another poll announce nothing more.
    served.items[0].summary = "<p>Edited</p>"
    await later(service)
    assert (await service.poll_due()).announced == 0
    assert len(await deliveries(sessions)) == 1


async def test_a_feed_is_fetched_once_for_every_channel_that_follows_it(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    served, url = feed_server.feed("blog", [item(1, START)])
    for channel in (CHANNEL, OTHER_CHANNEL):
        await service.subscribe(guild_id=GUILD, channel_id=channel, url=url, actor_id=ACTOR)
    await service.subscribe(guild_id=2, channel_id=20, url=url, actor_id=ACTOR)
    served.items.insert(0, item(2, START))
    requests = served.requests
    await later(service)
    assert (await service.poll_due()).announced == 3
    assert served.requests == requests + 1
    assert sorted(r.channel_id for r in await deliveries(sessions)) == [CHANNEL, OTHER_CHANNEL, 20]


async def test_filters_and_caps_hold(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    served, url = feed_server.feed("blog", [])
    await service.subscribe(
        guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR, include="hackathon", exclude="cancelled"
    )
    served.items[:0] = [
        item(1, START, summary="<p>A Hackathon in Cluj</p>"),
        item(2, START, summary="<p>Hackathon cancelled</p>"),
        item(3, START, summary="<p>Board minutes</p>"),
    ]
    await later(service)
    await service.poll_due()
    assert [r.payload["embeds"][0]["title"] for r in await deliveries(sessions)] == ["Post 1"]
    served.items[:0] = [item(10 + n, START, summary="<p>hackathon</p>") for n in range(12)]
    await later(service)
    await service.poll_due()
    assert len(await deliveries(sessions)) == 1 + diff.PER_POLL


async def test_old_posts_are_remembered_but_not_announced(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    served, url = feed_server.feed("blog", [])
    await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    served.items.append(item(1, START - timedelta(days=30)))
    await later(service)
    assert (await service.poll_due()).announced == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FeedEntry)) == 1


async def test_failures_back_off_warn_once_then_disable(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    _, url = feed_server.feed("blog", [item(1, START)])
    sub, _ = await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    del feed_server.feeds["blog"]  # now a 404
    waits = []
    for _ in range(diff.DISABLE_AFTER):
        current = await service.get(GUILD, sub.id)
        waits.append(current.next_poll_at - clock(service).now())
        clock(service).set(current.next_poll_at)
        assert (await service.poll_due()).failed == 1
    assert waits[2] == 2 * waits[1] > timedelta(0)
    status = await service.get(GUILD, sub.id)
    assert status.disabled_at is not None and status.failures == diff.DISABLE_AFTER
    assert status.reason("de") and "404" in (status.reason(None) or "")
    notices = await deliveries(sessions, NOTICE)
    assert [n.channel_id for n in notices] == [ORGANISERS, ORGANISERS]
    assert "404" in notices[1].payload["content"] and "resume" in notices[1].payload["content"]
    assert notices[0].payload["content"].startswith(WARNING.split("{")[0])
    assert notices[1].payload["content"].startswith(DISABLED.split("{")[0])
    clock(service).advance(timedelta(days=3))
    assert (await service.poll_due()).polled == 0  # disabled feeds are left alone
    feed_server.feed("blog", [item(1, START)])
    await service.edit(GUILD, sub.id, resume=True)
    assert (await service.poll_due()).polled == 1
    assert (await service.get(GUILD, sub.id)).failures == 0


@pytest.mark.parametrize(
    ("path", "error"),
    [("/page", NotAFeed), ("/status/500", FetchError), ("/malformed", NotAFeed), ("/slow", FetchError)],
)
async def test_bad_feeds_are_refused_and_nothing_is_saved(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer, path: str, error: type
) -> None:
    with pytest.raises(error):
        await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=feed_server.url(path), actor_id=ACTOR)
    assert await service.subscriptions(GUILD) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Feed)) == 0


async def test_duplicates_bad_templates_and_other_guilds_are_refused(
    service: FeedService, feed_server: FeedServer
) -> None:
    _, url = feed_server.feed("blog", [item(1, START)])
    sub, _ = await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    with pytest.raises(UserError, match="already follows"):
        await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    with pytest.raises(UserError, match="placeholders"):
        await service.subscribe(guild_id=GUILD, channel_id=OTHER_CHANNEL, url=url, actor_id=ACTOR, template="{x}")
    with pytest.raises(NotFound):
        await service.remove(2, sub.id)
    assert len(await service.subscriptions(GUILD)) == 1


async def test_removing_the_last_subscription_forgets_the_feed(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    _, url = feed_server.feed("blog", [item(1, START)])
    sub, _ = await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    await service.remove(GUILD, sub.id)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Feed)) == 0
        assert await session.scalar(select(func.count()).select_from(FeedEntry)) == 0


async def test_one_hanging_feed_does_not_hold_back_the_others(
    service: FeedService, sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer
) -> None:
    served, url = feed_server.feed("blog", [])
    await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    _, hanging_url = feed_server.feed("hanging", [])
    await service.subscribe(guild_id=GUILD, channel_id=OTHER_CHANNEL, url=hanging_url, actor_id=ACTOR)
    feed_server.slow_paths.add("/feeds/hanging")
    served.items.append(item(1, START))
    await later(service)
    report = await service.poll_due()
    assert (report.polled, report.failed, report.announced) == (2, 1, 1)


async def test_follow_chapters_subscribes_their_feeds_and_the_first_poll_only_learns(
    sessions: async_sessionmaker[AsyncSession], feed_server: FeedServer, tmp_path: Path
) -> None:
    ro, ro_url = feed_server.feed("ro", [item(1, START)])
    _, tw_url = feed_server.feed("tw", [item(1, START)])
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "version: 1\nchapters:\n"
        f"  - {{key: code4ro, name: Code for Romania, country: RO, region: Europe, feed_url: '{ro_url}'}}\n"
        f"  - {{key: g0v, name: g0v, country: TW, region: Asia, feed_url: '{tw_url}'}}\n"
        "  - {key: nofeed, name: No Feed, country: PK, region: Asia}\n"
    )
    directory = DirectoryService(sessions)
    await directory.load(seed_file=seed)
    fetcher = Fetcher(allow_private=True, timeout=1)
    service = FeedService(sessions, FakeClock(START), fetcher, directory, GuildSettingsService(sessions))
    try:
        added = await service.follow_chapters(guild_id=GUILD, channel_id=CHANNEL, actor_id=ACTOR)
        assert sorted(added) == ["Code for Romania", "g0v"]
        assert await service.follow_chapters(guild_id=GUILD, channel_id=CHANNEL, actor_id=ACTOR) == []
        assert (await service.poll_due()).announced == 0  # the first poll learns
        ro.items.insert(0, item(2, START))
        await later(service)
        assert (await service.poll_due()).announced == 1
        rows = await deliveries(sessions)
        assert rows[0].payload["embeds"][0]["footer"] == {"text": "Code for Romania"}
    finally:
        await fetcher.close()


async def test_an_error_in_one_feed_does_not_stop_the_cycle(
    service: FeedService,
    sessions: async_sessionmaker[AsyncSession],
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served, url = feed_server.feed("blog", [])
    broken, broken_url = feed_server.feed("broken", [])
    await service.subscribe(guild_id=GUILD, channel_id=CHANNEL, url=url, actor_id=ACTOR)
    await service.subscribe(guild_id=GUILD, channel_id=OTHER_CHANNEL, url=broken_url, actor_id=ACTOR)
    served.items.append(item(1, START))
    broken.items.append(item(2, START))
    ingest = service._ingest

    async def failing(session: AsyncSession, feed: Feed, *args: object) -> int:
        if feed.url == broken_url:
            raise RuntimeError("disk full")
        return await ingest(session, feed, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_ingest", failing)
    await later(service)
    report = await service.poll_due()
    assert (report.polled, report.failed, report.announced) == (2, 1, 1)
    assert [r.channel_id for r in await deliveries(sessions)] == [CHANNEL]
