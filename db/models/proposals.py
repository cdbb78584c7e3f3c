"""Directory changes proposed by organisers of other servers, for the home server's organisers to decide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, Timestamped, UTCDateTime


class Proposal(Timestamped, Base):
    """One proposed create or edit of a chapter or project: what the form showed and what was typed."""

    __tablename__ = "directory_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str | None] = mapped_column(String(250))
    base_version: Mapped[int | None] = mapped_column(Integer)
    shown: Mapped[dict[str, Any]] = mapped_column(default=dict)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    guild_name: Mapped[str] = mapped_column(String(100))
    proposer_id: Mapped[int] = mapped_column(BigInteger)
    proposer_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
