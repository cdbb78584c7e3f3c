"""SQLAlchemy 2 models, a module per feature: the database is the source of truth for what must survive a restart."""

from db.models.announcements import Announcement
from db.models.base import Base, Timestamped, UTCDateTime, utcnow
from db.models.delivery import Delivery
from db.models.directory import ChangeRecord, Chapter, ImportRun, Project, Summit
from db.models.events import Calendar, Event, EventFollower
from db.models.feeds import Feed, FeedEntry, FeedSubscription
from db.models.guilds import GuildResource, GuildSettings
from db.models.proposals import Proposal
from db.models.state import BotState, Revision
from db.models.welcome import Arrival, ChapterPick

__all__ = [
    "Announcement",
    "Arrival",
    "Base",
    "BotState",
    "Calendar",
    "ChangeRecord",
    "Chapter",
    "ChapterPick",
    "Delivery",
    "Event",
    "EventFollower",
    "Feed",
    "FeedEntry",
    "FeedSubscription",
    "GuildResource",
    "GuildSettings",
    "ImportRun",
    "Project",
    "Proposal",
    "Revision",
    "Summit",
    "Timestamped",
    "UTCDateTime",
    "utcnow",
]
