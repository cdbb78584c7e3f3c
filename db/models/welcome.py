"""Newcomers: each join the bot welcomed, and the chapter each member picked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UTCDateTime, utcnow


class Arrival(Base):
    """One join of one member, welcomed once: a restart or a replayed gateway event finds it and does nothing."""

    __tablename__ = "welcome_arrivals"
    __table_args__ = (UniqueConstraint("guild_id", "user_id", "joined_at", name="uq_welcome_arrivals_join"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChapterPick(Base):
    """The chapter a member picked in a guild (the role that goes with it is the chapter's role there)."""

    __tablename__ = "chapter_picks"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chapter_key: Mapped[str] = mapped_column(String(100))
    picked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
