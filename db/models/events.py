"""Summits and events, the members who asked to be reminded, and the chapter calendars they are read from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow


class Event(Base):
    """A summit, hackathon or meetup: stored as UTC instants plus the IANA zone it was written in.

    `origin` says where it came from and identifies it there: `directory:KEY`, `organiser:N`, `calendar:ID:UID`.
    A past event known only by its year (the seed's early summits) has no start.
    """

    __tablename__ = "events"  # guild_id 0: the network's own events (the directory's summits), in every server
    __table_args__ = (
        UniqueConstraint("guild_id", "origin", name="uq_events_guild_origin"),
        Index("ix_events_guild_start", "guild_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    origin: Mapped[str] = mapped_column(String(300))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    chapter_keys: Mapped[list[Any]] = mapped_column(default=list)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    all_day: Mapped[bool] = mapped_column(default=False)
    year: Mapped[int | None] = mapped_column(Integer)
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    location: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventFollower(Base):
    """A member who pressed "Remind me": one direct message before the event, in their DM channel."""

    __tablename__ = "event_followers"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    dm_channel_id: Mapped[int] = mapped_column(BigInteger)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Calendar(Base):
    """An iCalendar feed a guild follows: polled like a blog feed, its events kept in step with it."""

    __tablename__ = "calendars"
    __table_args__ = (
        UniqueConstraint("guild_id", "url", name="uq_calendars_guild_url"),
        Index("ix_calendars_next_poll_at", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(String(2000))
    chapter_key: Mapped[str | None] = mapped_column(String(100))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    learned: Mapped[bool] = mapped_column(default=False)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
