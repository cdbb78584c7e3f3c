"""Per-guild configuration, and the Discord objects the bot created in each guild."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, Timestamped, UTCDateTime, utcnow


class GuildSettings(Timestamped, Base):
    """Per-guild configuration."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    organiser_role_id: Mapped[int | None] = mapped_column(BigInteger)
    locale: Mapped[str | None] = mapped_column(String(10))
    organisers_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    timezone: Mapped[str | None] = mapped_column(String(64))
    events_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    reminder_offsets: Mapped[str | None] = mapped_column(String(100))
    welcome_mode: Mapped[str | None] = mapped_column(String(10))  # system (when unset) | channel | dm | off
    welcome_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    welcome_tips: Mapped[bool | None] = mapped_column()  # on when unset
    rules_text: Mapped[str | None] = mapped_column(String(1000))
    announcements_channel_id: Mapped[int | None] = mapped_column(BigInteger)  # where new partners are introduced


class GuildResource(Base):
    """A Discord object the bot created in a guild (a partner's role, category, channels), found again by id."""

    __tablename__ = "guild_resources"
    __table_args__ = (UniqueConstraint("guild_id", "owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(150))  # what it belongs to, e.g. "partner:g0v"
    name: Mapped[str] = mapped_column(String(100))  # its place in the plan, e.g. "role", "channel:general"
    kind: Mapped[str] = mapped_column(String(20))  # role | category | channel
    discord_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
