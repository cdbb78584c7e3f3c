"""The network directory: chapters, projects, summits, and the history of every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, Timestamped, UTCDateTime, utcnow


class Chapter(Timestamped, Base):
    """A member organisation of the network."""

    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(100))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(50))
    tier: Mapped[str] = mapped_column(String(20), default="member")
    founded: Mapped[int | None] = mapped_column(Integer)
    joined: Mapped[int | None] = mapped_column(Integer)
    website: Mapped[str | None] = mapped_column(String(500))
    feed_url: Mapped[str | None] = mapped_column(String(500))
    events_url: Mapped[str | None] = mapped_column(String(500))
    social: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    descriptions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    facts: Mapped[list[Any]] = mapped_column(default=list)
    people: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    curated: Mapped[list[Any]] = mapped_column(default=list)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    projects: Mapped[list[Project]] = relationship(back_populates="chapter")


class Project(Timestamped, Base):
    """Something a chapter builds."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)
    chapter_id: Mapped[int | None] = mapped_column(ForeignKey("chapters.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    descriptions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")
    links: Mapped[dict[str, Any]] = mapped_column(default=dict)
    code_url: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    curated: Mapped[list[Any]] = mapped_column(default=list)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    chapter: Mapped[Chapter | None] = relationship(back_populates="projects")


class Summit(Timestamped, Base):
    """A network summit or annual meeting."""

    __tablename__ = "summits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str | None] = mapped_column(String(64))
    year: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    facts: Mapped[list[Any]] = mapped_column(default=list)
    url: Mapped[str | None] = mapped_column(String(500))
    revision: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class ChangeRecord(Base):
    """Who changed what in the directory, and when."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str] = mapped_column(String(250), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ImportRun(Base):
    """One import: committed chunk by chunk, so a failure halfway keeps what was done and says where it stopped."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="running")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
