"""Subscriptions and polling: every followed feed is fetched once per cycle, and new entries go to the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.outbox import MAX_THREAD_NAME, Payload, enqueue
from bot.directory.service import DirectoryService
from bot.errors import NotFound, UserError
from bot.feeds import diff
from bot.feeds.fetch import Fetched, Fetcher, FetchError, check_url
from bot.feeds.parse import Entry, NotAFeed, ParsedFeed, parse
from bot.feeds.render import CONTENT_LIMIT, Post, parse_words, passes, render, validate_template
from bot.guilds.settings import GuildSettingsService
from bot.i18n import N_, t
from bot.text import truncate
from db.models import Feed, FeedEntry, FeedSubscription

log = logging.getLogger(__name__)

MODES = ("post", "crosspost", "thread")
"""How a subscription posts: a message, a message crossposted to followers, or a new thread per entry."""
ENTRIES_PER_POLL = 500
CONCURRENCY = 20
POLL_JOB = "feeds-poll"
POLL_SECONDS = 60.0
"""How often the leader looks for feeds that are due (each feed is polled every POLL_INTERVAL or later)."""
KIND = "feed-entry"
NOTICE = "feed-notice"

WARNING = N_(
    "The feed {url} has failed {count} times in a row ({reason}). The bot keeps trying, less often; "
    "`/feeds status` shows its health."
)
DISABLED = N_(
    "The feed {url} failed {count} times in a row ({reason}), so the bot stopped polling it. "
    "Once the site works again, run `/feeds edit` with `resume: True` on one of its subscriptions."
)
UNEXPECTED = N_("an unexpected error while reading it")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel following a feed, and that feed's health."""

    id: int
    guild_id: int
    channel_id: int
    url: str
    title: str
    mode: str
    chapter_key: str | None
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    mention_role_id: int | None
    template: str | None
    last_success_at: datetime | None
    failures: int
    next_poll_at: datetime
    error: dict[str, Any] | None
    disabled_at: datetime | None

    def reason(self, locale: str | None) -> str | None:
        """The last failure, in the given language."""
        if not self.error:
            return None
        return t(locale, str(self.error.get("message", UNEXPECTED)), **dict(self.error.get("params") or {}))


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll cycle did."""

    polled: int
    failed: int
    announced: int


def _subscription(row: FeedSubscription, feed: Feed) -> Subscription:
    return Subscription(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        url=feed.url,
        title=feed.title,
        mode=row.mode,
        chapter_key=row.chapter_key,
        include=tuple(row.include),
        exclude=tuple(row.exclude),
        mention_role_id=row.mention_role_id,
        template=row.template,
        last_success_at=feed.last_success_at,
        failures=feed.failures,
        next_poll_at=feed.next_poll_at,
        error=feed.error,
        disabled_at=feed.disabled_at,
    )


def _error(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, UserError):
        return {"message": exc.message, "params": {k: str(v) for k, v in exc.params.items()}}
    return {"message": UNEXPECTED, "params": {}}


class FeedService:
    """Organisers' subscriptions, and the poll cycle that turns new entries into deliveries."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        fetcher: Fetcher,
        directory: DirectoryService,
        guild_settings: GuildSettingsService,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._fetcher = fetcher
        self._directory = directory
        self._guild_settings = guild_settings
        self._polling: set[int] = set()
        # Fetches run side by side; their short write transactions take turns (SQLite has one writer at a time).
        self._writing = asyncio.Lock()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._fetcher.close()

    async def read(self, url: str) -> tuple[Fetched, ParsedFeed]:
        """Fetch and parse a feed now (the URL checked, private addresses refused); errors are sentences."""
        fetched = await self._fetcher.fetch(check_url(url))
        return fetched, await parse(fetched.body, fetched.url, fetched.content_type)

    async def find(self, site_url: str) -> list[str]:
        """The feeds a site announces; the site itself when it is a feed."""
        url = check_url(site_url)
        fetched = await self._fetcher.fetch(url)
        try:
            await parse(fetched.body, fetched.url, fetched.content_type)
        except NotAFeed as exc:
            return exc.alternates
        return [url]

    def chapter_name(self, chapter_key: str | None, url: str) -> str | None:
        """The name of the directory chapter a feed belongs to: the one named, else the one with this feed_url."""
        for chapter in self._directory.list_chapters():
            if chapter.key == chapter_key or (chapter_key is None and chapter.feed_url == url):
                return chapter.name
        return None

    async def subscribe(
        self,
        *,
        guild_id: int,
        channel_id: int,
        url: str,
        actor_id: int,
        mode: str = "post",
        include: str | None = None,
        exclude: str | None = None,
        mention_role_id: int | None = None,
        template: str | None = None,
    ) -> tuple[Subscription, ParsedFeed]:
        """Follow a feed in a channel after reading it once (that first read is the learning phase)."""
        template = validate_template(template)
        include_words, exclude_words = parse_words(include), parse_words(exclude)
        url = check_url(url)
        async with self._sessions() as session:
            if await self._find_duplicate(session, guild_id, channel_id, url):
                raise UserError(N_("This channel already follows that feed."))
        fetched, parsed = await self.read(url)
        now = self._clock.now()
        async with self._sessions.begin() as session:
            feed = await self._feed_for(session, url, now)
            if not feed.learned:
                await self._remember(session, feed, [e.key for e in parsed.entries[:ENTRIES_PER_POLL]], now)
                feed.learned, feed.title = True, parsed.title[:300]
                feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
                feed.last_success_at, feed.next_poll_at = now, diff.next_poll(now, 0)
            if await self._find_duplicate(session, guild_id, channel_id, url):
                raise UserError(N_("This channel already follows that feed."))
            row = FeedSubscription(
                guild_id=guild_id,
                channel_id=channel_id,
                feed_id=feed.id,
                mode=mode,
                chapter_key=self._chapter_key(url),
                include=list(include_words),
                exclude=list(exclude_words),
                mention_role_id=mention_role_id,
                template=template,
                created_by=actor_id,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            return _subscription(row, feed), parsed

    async def follow_chapters(self, *, guild_id: int, channel_id: int, actor_id: int, mode: str = "post") -> list[str]:
        """Follow every directory chapter's feed in a channel; their first poll learns them. The names added."""
        added: list[str] = []
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for chapter in self._directory.list_chapters():
                if not chapter.feed_url:
                    continue
                try:
                    url = check_url(chapter.feed_url)
                except FetchError:
                    continue
                if await self._find_duplicate(session, guild_id, channel_id, url):
                    continue
                feed = await self._feed_for(session, url, now)
                session.add(
                    FeedSubscription(
                        guild_id=guild_id,
                        channel_id=channel_id,
                        feed_id=feed.id,
                        mode=mode,
                        chapter_key=chapter.key,
                        include=[],
                        exclude=[],
                        created_by=actor_id,
                        created_at=now,
                    )
                )
                added.append(chapter.name)
        return added

    async def subscriptions(self, guild_id: int) -> list[Subscription]:
        """A guild's subscriptions, oldest first."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(FeedSubscription, Feed)
                .join(Feed, Feed.id == FeedSubscription.feed_id)
                .where(FeedSubscription.guild_id == guild_id)
                .order_by(FeedSubscription.id)
            )
            return [_subscription(sub, feed) for sub, feed in rows.all()]

    async def get(self, guild_id: int, subscription_id: int) -> Subscription:
        """One of the guild's subscriptions, or NotFound."""
        async with self._sessions() as session:
            sub, feed = await self._owned(session, guild_id, subscription_id)
            return _subscription(sub, feed)

    async def edit(
        self,
        guild_id: int,
        subscription_id: int,
        *,
        include: str | None = None,
        exclude: str | None = None,
        template: str | None = None,
        mention_role_id: int | None = None,
        clear_mention: bool = False,
        resume: bool = False,
    ) -> Subscription:
        """Change what was given (an empty string clears a filter or the template); `resume` re-enables the feed."""
        words = {"include": include, "exclude": exclude}
        parsed_words = {name: list(parse_words(value)) for name, value in words.items() if value is not None}
        checked_template = validate_template(template) if template is not None else None
        async with self._sessions.begin() as session:
            sub, feed = await self._owned(session, guild_id, subscription_id)
            for name, value in parsed_words.items():
                setattr(sub, name, value)
            if template is not None:
                sub.template = checked_template
            if mention_role_id is not None or clear_mention:
                sub.mention_role_id = None if clear_mention else mention_role_id
            if resume and feed.disabled_at is not None:
                feed.disabled_at, feed.failures, feed.error = None, 0, None
                feed.next_poll_at = self._clock.now()
            return _subscription(sub, feed)

    async def remove(self, guild_id: int, subscription_id: int) -> Subscription:
        """Stop following; a feed nobody follows any more is forgotten with its seen entries."""
        async with self._sessions.begin() as session:
            sub, feed = await self._owned(session, guild_id, subscription_id)
            info = _subscription(sub, feed)
            await session.delete(sub)
            await session.flush()
            followed = await session.scalar(select(exists().where(FeedSubscription.feed_id == feed.id)))
            if not followed:
                await session.execute(delete(FeedEntry).where(FeedEntry.feed_id == feed.id))
                await session.delete(feed)
            return info

    async def preview(
        self, guild_id: int, subscription_id: int, locale: str | None
    ) -> tuple[Subscription, Post | None]:
        """The post the newest entry of a subscription's feed would make now (nothing is recorded or sent)."""
        sub = await self.get(guild_id, subscription_id)
        _, parsed = await self.read(sub.url)
        if not parsed.entries:
            return sub, None
        newest = max(parsed.entries, key=lambda e: e.published.timestamp() if e.published else 0.0)
        return sub, self._render(newest, sub, parsed.title, locale)

    def _render(self, entry: Entry, sub: Subscription, feed_title: str, locale: str | None) -> Post:
        chapter = self.chapter_name(sub.chapter_key, sub.url)
        return render(entry, locale=locale, feed_title=feed_title, chapter=chapter, template=sub.template)

    async def poll_due(self) -> PollReport:
        """Poll every enabled, followed feed that is due, at most CONCURRENCY at a time."""
        now = self._clock.now()
        async with self._sessions() as session:
            due = list(
                await session.scalars(
                    select(Feed.id)
                    .where(Feed.disabled_at.is_(None), Feed.next_poll_at <= now)
                    .where(exists().where(FeedSubscription.feed_id == Feed.id))
                    .order_by(Feed.next_poll_at)
                )
            )
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(feed_id: int) -> int | None:
            async with gate:
                try:
                    return await self.poll(feed_id)
                except Exception:
                    log.exception("polling feed %s failed", feed_id)
                    return None

        results = await asyncio.gather(*(one(feed_id) for feed_id in due))
        announced = sum(r for r in results if r is not None)
        return PollReport(polled=len(due), failed=sum(1 for r in results if r is None), announced=announced)

    async def poll(self, feed_id: int) -> int | None:
        """Poll one feed: the number of posts enqueued, or None when it failed (its health recorded)."""
        if feed_id in self._polling:
            return 0
        self._polling.add(feed_id)
        try:
            return await self._poll(feed_id)
        finally:
            self._polling.discard(feed_id)

    async def _poll(self, feed_id: int) -> int | None:
        async with self._sessions() as session:
            feed = await session.get(Feed, feed_id)
            if feed is None:
                return 0
            url, etag, last_modified = feed.url, feed.etag, feed.last_modified
        try:
            fetched = await self._fetcher.fetch(url, etag=etag, last_modified=last_modified)
            parsed = None if fetched.not_modified else await parse(fetched.body, fetched.url, fetched.content_type)
        except Exception as exc:
            if not isinstance(exc, UserError):
                log.exception("feed %s could not be read", url)
            await self._failed(feed_id, exc)
            return None
        now = self._clock.now()
        async with self._writing, self._sessions.begin() as session:
            feed = await session.get(Feed, feed_id)
            if feed is None:
                return 0
            feed.failures, feed.error, feed.last_attempt_at, feed.last_success_at = 0, None, now, now
            feed.next_poll_at = diff.next_poll(now, 0)
            if parsed is None:
                return 0
            feed.etag, feed.last_modified = fetched.etag, fetched.last_modified
            feed.title = parsed.title[:300] or feed.title
            return await self._ingest(session, feed, parsed, now)

    async def _ingest(self, session: AsyncSession, feed: Feed, parsed: ParsedFeed, now: datetime) -> int:
        entries = parsed.entries[:ENTRIES_PER_POLL]
        keys = [e.key for e in entries]
        seen = set(
            await session.scalars(select(FeedEntry.key).where(FeedEntry.feed_id == feed.id, FeedEntry.key.in_(keys)))
        )
        found = diff.discover_new(entries, seen, learning=not feed.learned, now=now)
        feed.learned = True
        await self._remember(session, feed, list(found.remember), now)
        if not found.announce:
            return 0
        subs = await session.scalars(select(FeedSubscription).where(FeedSubscription.feed_id == feed.id))
        enqueued = 0
        for row in subs:
            sub = _subscription(row, feed)
            chosen = [e for e in found.announce if passes(e, sub.include, sub.exclude)]
            allowed = diff.allowance(row.posted_today, row.counted_at, now)
            chosen = chosen[-allowed:] if allowed else []
            if not chosen:
                continue
            locale = (await self._guild_settings.get(sub.guild_id)).locale
            for entry in chosen:
                post = self._render(entry, sub, parsed.title, locale)
                if await enqueue(
                    session,
                    kind=KIND,
                    key=f"{feed.id}:{entry.key}",
                    guild_id=sub.guild_id,
                    channel_id=sub.channel_id,
                    payload=self._payload(post, entry, sub, locale),
                    due_at=now,
                ):
                    enqueued += 1
            today = row.counted_at is not None and row.counted_at.date() == now.date()
            row.posted_today = (row.posted_today if today else 0) + len(chosen)
            row.counted_at = now
        return enqueued

    def _payload(self, post: Post, entry: Entry, sub: Subscription, locale: str | None) -> Payload:
        title = truncate(entry.title, MAX_THREAD_NAME) or t(locale, "(untitled)")
        thread_name = title if sub.mode == "thread" else None
        content = post.content or ""
        if sub.mention_role_id:
            content = truncate(f"<@&{sub.mention_role_id}> {content}", CONTENT_LIMIT)
        return Payload(
            content=content,
            embeds=[post.embed] if post.embed else [],
            mention_role_id=sub.mention_role_id,
            crosspost=sub.mode == "crosspost",
            thread_name=thread_name,
        )

    async def _failed(self, feed_id: int, exc: Exception) -> None:
        now = self._clock.now()
        async with self._writing, self._sessions.begin() as session:
            feed = await session.get(Feed, feed_id)
            if feed is None:
                return
            health = diff.after_failure(feed.failures)
            feed.failures, feed.error, feed.last_attempt_at = health.failures, _error(exc), now
            feed.next_poll_at = diff.next_poll(now, health.failures)
            if health.disable:
                feed.disabled_at = now
            if health.warn or health.disable:
                await self._tell_organisers(session, feed, DISABLED if health.disable else WARNING, now)

    async def _tell_organisers(self, session: AsyncSession, feed: Feed, message: str, now: datetime) -> None:
        guild_ids = set(
            await session.scalars(select(FeedSubscription.guild_id).where(FeedSubscription.feed_id == feed.id))
        )
        error = feed.error or {}
        for guild_id in sorted(guild_ids):
            config = await self._guild_settings.get(guild_id)
            if config.organisers_channel_id is None:
                continue
            reason = t(config.locale, str(error.get("message", UNEXPECTED)), **dict(error.get("params") or {}))
            text = t(config.locale, message, url=feed.url, count=feed.failures, reason=reason.rstrip("."))
            await enqueue(
                session,
                kind=NOTICE,
                key=f"{feed.id}:{'disabled' if message == DISABLED else 'warning'}:{int(now.timestamp())}",
                guild_id=guild_id,
                channel_id=config.organisers_channel_id,
                payload=Payload(content=text[:2000]),
                due_at=now,
            )

    async def _remember(self, session: AsyncSession, feed: Feed, keys: Sequence[str], now: datetime) -> None:
        session.add_all(FeedEntry(feed_id=feed.id, key=key, seen_at=now) for key in dict.fromkeys(keys))
        await session.flush()

    async def _feed_for(self, session: AsyncSession, url: str, now: datetime) -> Feed:
        feed = await session.scalar(select(Feed).where(Feed.url == url))
        if feed is None:
            feed = Feed(url=url, title="", learned=False, failures=0, next_poll_at=now, created_at=now)
            session.add(feed)
            await session.flush()
        return feed

    async def _find_duplicate(self, session: AsyncSession, guild_id: int, channel_id: int, url: str) -> bool:
        count = await session.scalar(
            select(func.count())
            .select_from(FeedSubscription)
            .join(Feed, Feed.id == FeedSubscription.feed_id)
            .where(FeedSubscription.guild_id == guild_id, FeedSubscription.channel_id == channel_id, Feed.url == url)
        )
        return bool(count)

    async def _owned(self, session: AsyncSession, guild_id: int, subscription_id: int) -> tuple[FeedSubscription, Feed]:
        row = await session.get(FeedSubscription, subscription_id)
        if row is None or row.guild_id != guild_id:
            raise NotFound(N_("subscription"), str(subscription_id))
        feed = await session.get(Feed, row.feed_id)
        assert feed is not None
        return row, feed

    def _chapter_key(self, url: str) -> str | None:
        for chapter in self._directory.list_chapters():
            if chapter.feed_url and chapter.feed_url.strip() == url:
                return chapter.key
        return None
