"""Organiser announcements: what was written, for when and where; each channel's post is a delivery row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow


class Announcement(Base):
    """An announcement an organiser confirmed: posted at `due_at` in each of `channel_ids`."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_guild", "guild_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)
    channel_ids: Mapped[list[Any]] = mapped_column()
    role_id: Mapped[int | None] = mapped_column(BigInteger)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
