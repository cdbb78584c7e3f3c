"""Enqueue a post in the caller's transaction; the dispatcher sends it after the commit.

A delivery is unique per (kind, key, channel): enqueueing the same thing twice for a channel is a no-op, so
whatever discovers things to post can simply enqueue everything it finds, once per transaction that found it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.models import Delivery, utcnow

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_BUTTONS = 25
MAX_KEY = 255
MAX_THREAD_NAME = 100
# Session.info keys: the bell to ring after a commit, and whether this transaction enqueued anything.
BELL = "delivery_bell"
_ENQUEUED = "delivery_enqueued"


@dataclass(slots=True)
class Payload:
    """What to post: message content, embeds as Discord JSON, the one role and the one member it may mention,
    its buttons, and what to do after.

    `buttons` are Discord's button objects (``custom_id``, ``label``, ``style``), answered by the persistent
    components registered for their ids. `crosspost` publishes the message to the followers when the channel
    is an announcement channel; `thread_name` opens a thread on it (in a forum channel, the post itself is a
    new thread with that name).
    """

    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    mention_role_id: int | None = None
    crosspost: bool = False
    thread_name: str | None = None
    mention_user_id: int | None = None
    buttons: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.content and not self.embeds:
            raise ValueError("a delivery needs content or an embed")
        if len(self.content) > MAX_CONTENT or len(self.embeds) > MAX_EMBEDS:
            raise ValueError("content over 2000 characters or more than 10 embeds")
        if len(self.buttons) > MAX_BUTTONS or any(not button.get("custom_id") for button in self.buttons):
            raise ValueError("at most 25 buttons, each with a custom_id")
        if self.thread_name is not None and not 1 <= len(self.thread_name) <= MAX_THREAD_NAME:
            raise ValueError("a thread name has 1 to 100 characters")

    def to_json(self) -> dict[str, Any]:
        """The payload as stored in the row."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Payload:
        """The payload a row stores."""
        return cls(**data)


class Bell:
    """Rung after a commit that enqueued deliveries, so the dispatcher sends them without waiting for its poll."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` (synchronously, it must not block) on every ring."""
        self._listeners.append(listener)

    def ring(self) -> None:
        """Tell every listener that deliveries are waiting."""
        for listener in self._listeners:
            listener()


def delivery_key(identity: str) -> str:
    """`identity` as a row key: as it is when short enough, else a digest of it."""
    if len(identity) <= MAX_KEY:
        return identity
    return "sha256:" + hashlib.sha256(identity.encode()).hexdigest()


def nonce_for(delivery_id: int) -> str:
    """The message nonce of a delivery (Discord allows 25 characters): the same on every attempt."""
    return f"cfa-d{delivery_id}"


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    key: str,
    guild_id: int,
    channel_id: int,
    payload: Payload,
    due_at: datetime,
) -> bool:
    """Add a post to the outbox inside the caller's transaction; False when (kind, key, channel) already exists."""
    if due_at.tzinfo is None:
        raise ValueError("due_at must be timezone-aware")
    values = {
        "kind": kind,
        "key": delivery_key(key),
        "guild_id": guild_id,
        "channel_id": channel_id,
        "payload": payload.to_json(),
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": due_at,
        "created_at": utcnow(),
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Delivery)
        .values(values)
        .on_conflict_do_nothing(index_elements=["kind", "key", "channel_id"])
        .returning(Delivery.id)
    )
    if (await session.execute(statement)).scalar() is None:
        return False
    session.info[_ENQUEUED] = True
    return True


async def pending_to(session: AsyncSession, channel_ids: Collection[int]) -> int:
    """How many deliveries to these channels are still waiting to be sent."""
    if not channel_ids:
        return 0
    count = await session.scalar(
        select(func.count()).where(Delivery.channel_id.in_(channel_ids), Delivery.state == PENDING)
    )
    return int(count or 0)


async def cancel_pending(session: AsyncSession, channel_ids: Collection[int]) -> int:
    """Cancel the deliveries to these channels not yet sent (one being sent right now finishes); how many."""
    if not channel_ids:
        return 0
    result = await session.execute(
        update(Delivery)
        .where(Delivery.channel_id.in_(channel_ids), Delivery.state == PENDING)
        .values(state=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if session.info.pop(_ENQUEUED, False):
        bell = session.info.get(BELL)
        if isinstance(bell, Bell):
            bell.ring()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)
