"""The application: settings, database, clock and services, shared by the bot, the CLI, tests and tools."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
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
from bot.onboarding.offboard import OffboardingService
from bot.onboarding.service import OnboardingService
from bot.scheduling import Scheduler
from bot.scheduling.leader import leadership_for
from bot.summits import calendars
from bot.summits.calendars import CalendarService
from bot.summits.service import PLAN_JOB, PLAN_SECONDS, EventService
from bot.welcome.service import WelcomeService
from db.migrate import upgrade
from db.repositories import read_revisions
from db.session import (
    DatabaseGone,
    DatabaseUnavailable,
    create_engine,
    create_session_factory,
    failure_reason,
    startup_lock,
)

log = logging.getLogger(__name__)

REFRESH_EVERY = 1.0  # seconds between looks at the revisions, so other processes' writes show within 2 s


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
    offboarding: OffboardingService
    announcements: AnnouncementService
    feeds: FeedService
    events: EventService
    calendars: CalendarService
    welcome: WelcomeService
    _watcher: asyncio.Task[None] | None = field(default=None, init=False)

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
        events = EventService(sessions, clock)
        scheduler.every(PLAN_JOB, PLAN_SECONDS, events.plan)
        calendar_service = CalendarService(sessions, clock, fetcher, events)
        scheduler.every(calendars.POLL_JOB, calendars.POLL_SECONDS, calendar_service.poll_due)
        proposals = ProposalService(sessions, directory, clock)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock,
            bell=bell,
            scheduler=scheduler,
            directory=directory,
            guild_settings=guild_settings,
            proposals=proposals,
            onboarding=OnboardingService(
                sessions, clock=clock, directory=directory, feeds=feeds, calendars=calendar_service
            ),
            offboarding=OffboardingService(sessions, directory, proposals, feeds, calendar_service),
            announcements=AnnouncementService(sessions, clock),
            feeds=feeds,
            events=events,
            calendars=calendar_service,
            welcome=WelcomeService(sessions, clock, events),
        )

    async def start(self, *, watch: bool = False) -> None:
        """Migrate and load the directory (seeding an empty one) under the start-up lock; `watch` keeps it fresh."""
        try:
            async with startup_lock(self.engine):
                await upgrade(self.engine)
                await self.directory.load(seed_file=self.settings.seed_file)
                await self.events.sync_directory(self.directory.list_summits())
        except (OSError, SQLAlchemyError, DatabaseGone) as error:
            raise DatabaseUnavailable(failure_reason(error)) from error
        if watch:
            self._watcher = asyncio.create_task(self._watch())

    async def refresh(self) -> None:
        """Catch up with writes made by any process: the directory's changed rows, the guild settings cache."""
        async with self.sessions() as session:
            revisions = await read_revisions(session)
        self.guild_settings.refresh(revisions.get("guild_settings", 0))
        if revisions.get("directory", 0) != self.directory.revision:
            await self.directory.refresh()
            await self.events.sync_directory(self.directory.list_summits())
        await self.events.refresh(revisions.get("events", 0))

    async def _watch(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                await self.refresh()
            except Exception as error:
                if not failing:
                    log.error("cannot read the database's revisions, so other processes' changes wait: %s", error)
                failing = True
            else:
                if failing:
                    log.warning("the database answers again; the directory is fresh")
                failing = False

    async def close(self) -> None:
        """Stop watching and the scheduled work, then release the database."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.scheduler.shutdown()
        await self.feeds.close()
        await self.engine.dispose()
