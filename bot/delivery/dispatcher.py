"""The dispatcher: claims due deliveries, sends each through the sender, and records how it went.

A claim marks a row `sending` until `next_attempt_at` (the claim's expiry) and bumps `attempts`, which then fences
every later write: a process that lost its claim (it hung past the expiry and another took the row) changes
nothing. A claim whose process died expires and the row is sent again with the same nonce, which Discord answers
with the first message instead of posting twice.

Only the leader runs it (a scheduled job), for every guild: posting is REST, which reaches a channel of any guild
whatever shards the leader's gateway sessions serve. Rows are claimed with FOR UPDATE SKIP LOCKED, so a second
dispatcher (a leader losing its lease mid-run while the next one starts) takes other rows, never the same one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.delivery.errors import PermanentDeliveryError, TransientDeliveryError
from bot.delivery.outbox import FAILED, PENDING, SENDING, SENT, Payload, enqueue, nonce_for
from bot.i18n import N_, t
from bot.scheduling import Scheduler
from db.models import Delivery, GuildSettings
from db.session import database_unavailable, failure_reason

log = logging.getLogger(__name__)

JOB_ID = "delivery-dispatch"
NOTICE_KIND = "delivery-problem"
UNKNOWN_CHANNEL, MISSING_ACCESS, MISSING_PERMISSIONS, CLOSED_DMS = 10003, 50001, 50013, 50007
TAG_REQUIRED, THREAD_ARCHIVED, THREAD_LOCKED = 40067, 50083, 160005
REASONS = {
    UNKNOWN_CHANNEL: N_("the channel no longer exists"),
    MISSING_ACCESS: N_("I cannot see that channel"),
    MISSING_PERMISSIONS: N_("I am missing permissions there"),
}
NOTICE = N_(
    "I could not post in {channel}: {reason} (Discord error {code}). Posts for that channel fail until this is "
    "fixed; give me View Channel and Send Messages there, or choose another channel."
)
TAG_NOTICE = N_(
    "I could not post in {channel}: the forum requires a tag on every post, and I have none to choose (Discord "
    "error {code}). Posts for that forum fail until this is fixed; turn off “Require people to select tags when "
    "posting” in its settings, or choose another channel."
)
LOCKED_NOTICE = N_(
    "I could not post in {channel}: the thread is locked (Discord error {code}). Posts for that thread fail until "
    "this is fixed; unlock it, give me Manage Threads there, or choose another channel."
)
# Refusals that other permissions would not cure get a notice of their own.
NOTICES = {TAG_REQUIRED: TAG_NOTICE, THREAD_ARCHIVED: LOCKED_NOTICE, THREAD_LOCKED: LOCKED_NOTICE}
GAVE_UP = N_("Discord kept failing ({error})")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed delivery on its way: `attempt` is the claim's fence, `message_id` set once it was posted."""

    id: int
    kind: str
    guild_id: int
    channel_id: int
    payload: Payload
    attempt: int
    message_id: int | None

    @property
    def nonce(self) -> str:
        """The message nonce: the same on every attempt of this delivery."""
        return nonce_for(self.id)


class Sender(Protocol):
    """Posts to Discord; raises a DeliveryError subclass when that fails."""

    async def post(self, item: Outgoing) -> int:
        """Post the message (with its nonce) and return its id."""
        ...

    async def follow_up(self, item: Outgoing, message_id: int) -> None:
        """Crosspost it and open its thread, as the payload asks; done steps are not repeated."""
        ...


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """How many rows a claim takes, how long it holds, and how retries back off."""

    batch_size: int = 50
    concurrency: int = 16
    claim_timeout: timedelta = timedelta(seconds=60)
    send_timeout: float = 30.0
    first_backoff: timedelta = timedelta(seconds=10)
    max_backoff: timedelta = timedelta(hours=1)
    max_attempts: int = 10
    poll_seconds: float = 10.0

    def backoff(self, attempt: int, retry_after: float = 0.0) -> timedelta:
        """The wait after failed attempt number `attempt` (1-based), never less than Discord's `retry_after`."""
        exponential = min(self.first_backoff * 2 ** (attempt - 1), self.max_backoff)
        return max(exponential, timedelta(seconds=retry_after))


@dataclass(slots=True)
class Dispatcher:
    """Sends due deliveries; run it as a scheduled job (`attach`) and `wake` it when rows are enqueued."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    sender: Sender
    policy: DispatchPolicy = DispatchPolicy()
    guild_locale: Callable[[int], str | None] = lambda _guild_id: None
    _scheduler: Scheduler | None = None
    _running: bool = False
    _again: bool = False
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    # One write at a time from this process: waiting here is fair and cheap, where SQLite's busy handler sleeps.
    _writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def attach(self, scheduler: Scheduler) -> None:
        """Run as the scheduler's leader-only job, every `poll_seconds` and whenever woken."""
        self._scheduler = scheduler
        scheduler.every(JOB_ID, self.policy.poll_seconds, self.run)

    def wake(self) -> None:
        """Send what is due now rather than at the next poll."""
        if self._running:
            self._again = True
        elif self._scheduler is not None:
            self._scheduler.run_soon(JOB_ID)

    async def run(self) -> int:
        """Send everything due, batch after batch; returns how many deliveries were attempted."""
        self._running = True
        self._idle.clear()
        total = 0
        try:
            while True:
                self._again = False
                handled = await self.dispatch_once()
                total += handled
                if handled < self.policy.batch_size and not self._again:
                    break
        finally:
            self._running = False
            self._idle.set()
        await self._schedule_next()
        return total

    async def idle(self) -> None:
        """Wait until no run is sending (tests: after the bell started one, before counting posts)."""
        if self._running:
            await self._idle.wait()

    async def dispatch_once(self) -> int:
        """Claim one batch of due rows and send them: channels in parallel, each channel's rows in order."""
        claimed = await self.claim(self.policy.batch_size)
        by_channel: dict[int, list[Outgoing]] = defaultdict(list)
        for item in claimed:
            by_channel[item.channel_id].append(item)
        limit = asyncio.Semaphore(self.policy.concurrency)
        posted: list[tuple[Outgoing, int]] = []

        async def lane(items: list[Outgoing]) -> None:
            async with limit:
                for position, item in enumerate(items):
                    await self.deliver(item, renew=position > 0, posted=posted)

        await asyncio.gather(*(lane(items) for items in by_channel.values()))
        await self._record_posted(posted)
        return len(claimed)

    async def claim(self, limit: int) -> list[Outgoing]:
        """Mark up to `limit` due rows as ours until the claim expires, in one UPDATE (the rows locked with FOR
        UPDATE SKIP LOCKED on PostgreSQL, so two processes never take the same row)."""
        now = self.clock.now()
        due = (Delivery.state.in_((PENDING, SENDING))) & (Delivery.next_attempt_at <= now)
        async with self._writing, self.sessions.begin() as session:
            ids = list(
                await session.scalars(
                    select(Delivery.id)
                    .where(due)
                    .order_by(Delivery.next_attempt_at, Delivery.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            rows = (
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(ids), due)
                    .values(
                        state=SENDING, attempts=Delivery.attempts + 1, next_attempt_at=now + self.policy.claim_timeout
                    )
                    .returning(
                        Delivery.id,
                        Delivery.kind,
                        Delivery.guild_id,
                        Delivery.channel_id,
                        Delivery.payload,
                        Delivery.attempts,
                        Delivery.message_id,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
            claimed: list[Outgoing] = []
            order = {row_id: position for position, row_id in enumerate(ids)}
            for row in sorted(rows, key=lambda r: order[r.id]):
                try:
                    payload = Payload.from_json(row.payload)
                except (TypeError, ValueError) as error:
                    log.error("delivery %s has an unreadable payload: %s", row.id, error)
                    await session.execute(
                        update(Delivery).where(Delivery.id == row.id).values(state=FAILED, last_error=str(error))
                    )
                    continue
                claimed.append(
                    Outgoing(row.id, row.kind, row.guild_id, row.channel_id, payload, row.attempts, row.message_id)
                )
        return claimed

    async def deliver(
        self, item: Outgoing, *, renew: bool = True, posted: list[tuple[Outgoing, int]] | None = None
    ) -> None:
        """Send one claimed delivery and record the outcome; never raises.

        `renew` first extends the claim, for rows that waited behind others of a busy channel; a row sent as soon
        as it was claimed needs no renewal. A post with nothing to do after it is recorded sent in one write, or,
        given `posted`, left there for the batch's one write (a crash before it resends with the same nonce,
        which Discord answers with the first message).
        """
        try:
            if renew and not await self._write(item, next_attempt_at=self.clock.now() + self.policy.claim_timeout):
                return
            message_id = item.message_id
            follow_up = item.payload.crosspost or item.payload.thread_name
            if message_id is None:
                async with asyncio.timeout(self.policy.send_timeout):
                    message_id = await self.sender.post(item)
                if not follow_up:
                    if posted is not None:
                        posted.append((item, message_id))
                    else:
                        await self._write(item, message_id=message_id, state=SENT, sent_at=self.clock.now())
                    return
                if not await self._write(item, message_id=message_id):
                    return
            note = None
            if follow_up:
                try:
                    async with asyncio.timeout(self.policy.send_timeout):
                        await self.sender.follow_up(item, message_id)
                except PermanentDeliveryError as error:
                    log.warning("delivery %s was posted but not completed: %s", item.id, error.reason)
                    note = error.reason
            await self._write(item, state=SENT, sent_at=self.clock.now(), last_error=note)
        except PermanentDeliveryError as error:
            await self._fail(item, error)
        except TransientDeliveryError as error:
            await self._retry(item, error)
        except TimeoutError:
            await self._retry(item, TransientDeliveryError("Discord did not answer in time"))
        except Exception as error:
            if database_unavailable(error):
                # The outcome cannot be written: the claim expires and the row is sent again, with the same nonce.
                log.error(
                    "delivery %s waits for its claim to expire: the database is unavailable: %s",
                    item.id,
                    failure_reason(error),
                )
                return
            log.exception("delivery %s failed unexpectedly", item.id)
            await self._retry(item, TransientDeliveryError(f"unexpected error: {error!r}"))

    async def _write(self, item: Outgoing, **values: Any) -> bool:
        """Update the row if our claim still holds it."""
        async with self._writing, self.sessions.begin() as session:
            return await self._fenced(session, item, **values)

    async def _record_posted(self, posted: list[tuple[Outgoing, int]]) -> None:
        """Record a batch's plain posts as sent in one statement, each row only while our claim holds it."""
        if not posted:
            return
        table = cast(Table, Delivery.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("row"), table.c.state == SENDING, table.c.attempts == bindparam("attempt"))
            .values(state=SENT, message_id=bindparam("message"), sent_at=self.clock.now())
        )
        rows = [{"row": item.id, "attempt": item.attempt, "message": message_id} for item, message_id in posted]
        try:
            async with self._writing, self.sessions.begin() as session:
                await session.execute(statement, rows)
        except Exception as error:
            if not database_unavailable(error):
                raise
            log.error(
                "%d posted deliveries wait for their claims to expire: the database is unavailable: %s",
                len(rows),
                failure_reason(error),
            )

    @staticmethod
    async def _fenced(session: AsyncSession, item: Outgoing, **values: Any) -> bool:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id == item.id, Delivery.state == SENDING, Delivery.attempts == item.attempt)
            .values(**values)
        )
        if _count(result) != 1:
            log.warning("delivery %s: claim %s was lost; another attempt owns it", item.id, item.attempt)
            return False
        return True

    async def _retry(self, item: Outgoing, error: TransientDeliveryError) -> None:
        if item.attempt >= self.policy.max_attempts:
            reason = f"gave up after {item.attempt} attempts: {error.reason}"
            await self._fail(item, PermanentDeliveryError(reason, code=0))
            return
        delay = self.policy.backoff(item.attempt, error.retry_after)
        log.info("delivery %s: %s; retrying in %s", item.id, error.reason, delay)
        await self._write(item, state=PENDING, next_attempt_at=self.clock.now() + delay, last_error=error.reason)

    async def _fail(self, item: Outgoing, error: PermanentDeliveryError) -> None:
        log.warning("delivery %s to channel %s failed: %s", item.id, item.channel_id, error.reason)
        async with self._writing, self.sessions.begin() as session:
            # A member who takes no direct messages is nothing organisers can fix.
            told = item.kind != NOTICE_KIND and error.code != CLOSED_DMS
            if await self._fenced(session, item, state=FAILED, last_error=error.reason) and told:
                await self._tell_organisers(session, item, error)

    async def _tell_organisers(self, session: AsyncSession, item: Outgoing, error: PermanentDeliveryError) -> None:
        """One notice per channel, code and run of failures (a success in the channel starts a new run)."""
        settings = await session.get(GuildSettings, item.guild_id)
        target = settings.organisers_channel_id if settings else None
        if target is None or target == item.channel_id:
            log.warning("guild %s has no organisers' channel to hear that %s fails", item.guild_id, item.channel_id)
            return
        last_sent = await session.scalar(
            select(func.max(Delivery.id)).where(Delivery.channel_id == item.channel_id, Delivery.state == SENT)
        )
        locale = (settings.locale if settings else None) or self.guild_locale(item.guild_id)
        channel = f"<#{item.channel_id}>"
        if error.code in NOTICES:
            text = t(locale, NOTICES[error.code], channel=channel, code=error.code)
        else:
            reason = REASONS.get(error.code) or t(locale, GAVE_UP, error=error.reason)
            text = t(locale, NOTICE, channel=channel, reason=t(locale, reason), code=error.code)
        self._again |= await enqueue(
            session,
            kind=NOTICE_KIND,
            key=f"{item.channel_id}:{error.code}:{last_sent or 0}",
            guild_id=item.guild_id,
            channel_id=target,
            payload=Payload(content=text),
            due_at=self.clock.now(),
        )

    async def _schedule_next(self) -> None:
        """Wake again when the earliest row falls due, if that is sooner than the next poll."""
        if self._scheduler is None:
            return
        earliest = await self.earliest_due()
        if earliest is not None:
            delay = (earliest - self.clock.now()).total_seconds()
            if delay < self.policy.poll_seconds:
                self._scheduler.run_soon(JOB_ID, max(delay, 0.0))

    async def earliest_due(self) -> datetime | None:
        """When the next waiting delivery (or claim expiry) falls due; None when nothing waits."""
        async with self.sessions() as session:
            return await session.scalar(
                select(func.min(Delivery.next_attempt_at)).where(Delivery.state.in_((PENDING, SENDING)))
            )


def _count(result: Any) -> int:
    return int(result.rowcount)
