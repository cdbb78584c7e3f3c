"""The bot: a commands.Bot whose setup_hook opens the database, loads cogs and syncs commands."""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import pkgutil
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot.config import Settings
from bot.scheduling import create_scheduler
from bot.services.directory import DirectoryService
from bot.services.guilds import GuildSettingsService
from bot.translations import BotTranslator
from bot.tree import BotTree
from db.migrate import upgrade
from db.repositories import get_state, set_state
from db.session import create_engine, create_session_factory

log = logging.getLogger(__name__)


def discover_cogs() -> list[str]:
    """Every extension module in the `cogs` package."""
    return sorted(f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.name.startswith("_"))


class CodeForAllBot(commands.Bot):
    """The Code for All network bot."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = True  # welcome newcomers
        intents.messages = False  # the bot answers interactions; it never reads chat messages
        options.setdefault("max_messages", None)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=BotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.engine = create_engine(settings.resolved_database_url)
        self.sessions = create_session_factory(self.engine)
        self.scheduler = create_scheduler()
        self.guild_settings = GuildSettingsService(self.sessions)
        self.directory = DirectoryService(self.sessions)

    async def setup_hook(self) -> None:
        """Migrate, load the directory, load every cog, start the scheduler, sync commands if changed."""
        await upgrade(self.engine)
        await self.directory.load(seed_file=self.settings.seed_file)
        await self.tree.set_translator(BotTranslator())
        for extension in discover_cogs():
            await self.load_extension(extension)
        self.scheduler.start()
        await self.sync_commands_if_changed()
        # The directory indexes are long-lived: keep them out of the cyclic collector's full passes.
        gc.collect()
        gc.freeze()

    async def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        """The JSON Discord would receive for this scope, translated as `tree.sync` does."""
        commands_ = self.tree.get_commands(guild=guild)
        translator = self.tree.translator
        if translator:
            return [await command.get_translated_payload(self.tree, translator) for command in commands_]
        return [command.to_dict(self.tree) for command in commands_]

    async def sync_commands_if_changed(self) -> bool:
        """Sync the command tree only when its hash differs from the last synced one."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = await self.command_payload(guild)
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"command-hash:{self.application_id}:{guild.id if guild else 'global'}"
        async with self.sessions() as session:
            if await get_state(session, key) == digest:
                log.info("commands unchanged, not syncing")
                return False
        synced = await self.tree.sync(guild=guild)
        async with self.sessions.begin() as session:
            await set_state(session, key, digest)
        log.info("synced %d commands to %s", len(synced), f"guild {guild.id}" if guild else "all guilds")
        return True

    async def on_ready(self) -> None:
        """Log once per (re)connection."""
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        """Stop the scheduler, then Discord, then the database."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await super().close()
        await self.engine.dispose()
