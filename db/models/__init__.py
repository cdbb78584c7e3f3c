"""SQLAlchemy 2 models, a module per feature: the database is the source of truth for what must survive a restart."""

from db.models.base import Base, Timestamped, UTCDateTime, utcnow
from db.models.directory import ChangeRecord, Chapter, ImportRun, Project, Summit
from db.models.guilds import GuildSettings
from db.models.state import BotState, Revision

__all__ = [
    "Base",
    "BotState",
    "ChangeRecord",
    "Chapter",
    "GuildSettings",
    "ImportRun",
    "Project",
    "Revision",
    "Summit",
    "Timestamped",
    "UTCDateTime",
    "utcnow",
]
