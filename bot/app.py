"""The application: settings, database, clock and services, shared by the bot, the CLI, tests and tools."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.announcements.service import AnnouncementService
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery.outbox import BELL, Bell
from bot.directory.proposals import ProposalService
from bot.directory.service import DirectoryService
from bot.feeds.fetch import Fetcher
from bot.feeds.service import POLL_JOB, POLL_SECONDS, FeedService
from bot.guilds.settings import GuildSettingsService
from bot.onboarding.service import OnboardingService
from bot.scheduling import Scheduler
from bot.scheduling.leader import leadership_for
from db.migrate import upgrade
from db.session import create_engine, create_session_factory


@dataclass(slots=True)
class App:
    """Everything the bot knows, with no Discord in it."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    bell: Bell
    scheduler: Scheduler
    directory: DirectoryService
    guild_settings: GuildSettingsService
    proposals: ProposalService
    onboarding: OnboardingService
    announcements: AnnouncementService
    feeds: FeedService

    @classmethod
    def create(cls, settings: Settings, *, clock: Clock | None = None) -> App:
        """Wire the services to one engine and one clock (nothing is opened yet)."""
        engine = create_engine(settings.resolved_database_url)
        sessions = create_session_factory(engine)
        bell = Bell()
        sessions.configure(info={BELL: bell})
        clock = clock or SystemClock()
        scheduler = Scheduler(leadership_for(engine))
        directory = DirectoryService(sessions)
        guild_settings = GuildSettingsService(sessions)
        fetcher = Fetcher(allow_private=settings.feeds_allow_private)
        feeds = FeedService(sessions, clock, fetcher, directory, guild_settings)
        scheduler.every(POLL_JOB, POLL_SECONDS, feeds.poll_due)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock,
            bell=bell,
            scheduler=scheduler,
            directory=directory,
            guild_settings=guild_settings,
            proposals=ProposalService(sessions, directory, clock),
            onboarding=OnboardingService(sessions),
            announcements=AnnouncementService(sessions, clock),
            feeds=feeds,
        )

    async def start(self) -> None:
        """Migrate the database and load the directory (seeding an empty one)."""
        await upgrade(self.engine)
        await self.directory.load(seed_file=self.settings.seed_file)

    async def close(self) -> None:
        """Stop the scheduled work, then release the database."""
        await self.scheduler.shutdown()
        await self.feeds.close()
        await self.engine.dispose()
