"""The bot's own small facts."""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class BotState(Base):
    """Small key/value facts about the bot itself (e.g. the synced command tree hash)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Revision(Base):
    """A counter bumped in the same transaction as every write to what processes cache (directory, guild settings)."""

    __tablename__ = "revisions"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
