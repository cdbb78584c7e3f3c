"""SQLAlchemy 2 models, a module per feature: the database is the source of truth for what must survive a restart."""

from db.models.base import Base, Timestamped, UTCDateTime, utcnow
from db.models.directory import ChangeRecord, Chapter, Project, Summit
from db.models.guilds import GuildResource, GuildSettings
from db.models.proposals import Proposal
from db.models.state import BotState

__all__ = [
    "Base",
    "BotState",
    "ChangeRecord",
    "Chapter",
    "GuildResource",
    "GuildSettings",
    "Project",
    "Proposal",
    "Summit",
    "Timestamped",
    "UTCDateTime",
    "utcnow",
]
