"""The application: settings, database, clock and services, shared by the bot, the CLI, tests and tools."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.directory.proposals import ProposalService
from bot.directory.service import DirectoryService
from bot.guilds.settings import GuildSettingsService
from bot.onboarding.service import OnboardingService
from db.migrate import upgrade
from db.session import create_engine, create_session_factory


@dataclass(slots=True)
class App:
    """Everything the bot knows, with no Discord in it."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    directory: DirectoryService
    guild_settings: GuildSettingsService
    proposals: ProposalService
    onboarding: OnboardingService

    @classmethod
    def create(cls, settings: Settings, *, clock: Clock | None = None) -> App:
        """Wire the services to one engine and one clock (nothing is opened yet)."""
        engine = create_engine(settings.resolved_database_url)
        sessions = create_session_factory(engine)
        clock = clock or SystemClock()
        directory = DirectoryService(sessions)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            clock=clock,
            directory=directory,
            guild_settings=GuildSettingsService(sessions),
            proposals=ProposalService(sessions, directory, clock),
            onboarding=OnboardingService(sessions),
        )

    async def start(self) -> None:
        """Migrate the database and load the directory (seeding an empty one)."""
        await upgrade(self.engine)
        await self.directory.load(seed_file=self.settings.seed_file)

    async def close(self) -> None:
        """Release the database."""
        await self.engine.dispose()
