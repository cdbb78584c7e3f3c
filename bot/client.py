"""The bot: a commands.Bot whose setup_hook opens the database, loads cogs and syncs commands."""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import pkgutil
import socket
import sys
from datetime import timedelta
from typing import Any

import discord
from discord.ext import commands

import cogs
from bot.app import App
from bot.delivery.dispatcher import Dispatcher, DispatchPolicy
from bot.delivery.sender import DiscordSender
from bot.errors import log_incident
from bot.errors.reporting import BotTree
from bot.i18n.translator import BotTranslator
from bot.memory import keep_long_lived
from bot.metrics import Gateway
from bot.ui.base import answer_unclaimed
from bot.web import WebServer
from db.repositories import get_state, set_state

log = logging.getLogger(__name__)


def discover_cogs() -> list[str]:
    """Every extension in the `cogs` package: a module, or a package, that defines `setup`."""
    found = []
    for module in pkgutil.walk_packages(cogs.__path__, prefix="cogs."):
        if any(part.startswith("_") for part in module.name.split(".")):
            continue
        if hasattr(importlib.import_module(module.name), "setup"):
            found.append(module.name)
    return sorted(found)


class CodeForAllBot(commands.Bot):
    """The Code for All network bot."""

    def __init__(self, app: App, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = True  # welcome newcomers
        intents.messages = False  # the bot answers interactions; it never reads chat messages
        options.setdefault("max_messages", None)
        # Members are cached as they join or act, never all at start-up: the welcome needs only the joining
        # member, and chunking every guild would hold `on_ready` for minutes at a thousand guilds.
        options.setdefault("chunk_guilds_at_startup", False)
        # A rate limit longer than this fails the request instead of sleeping in it: the outbox retries later.
        options.setdefault("max_ratelimit_timeout", 30.0)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=BotTree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.app = app
        self.settings = app.settings
        self.sessions = app.sessions
        self.directory = app.directory
        self.guild_settings = app.guild_settings
        self.scheduler = app.scheduler
        policy = DispatchPolicy(
            poll_seconds=app.settings.delivery_poll_seconds,
            claim_timeout=timedelta(seconds=app.settings.delivery_claim_seconds),
            send_timeout=app.settings.delivery_claim_seconds / 3,
        )
        self.web = WebServer(app, self._gateway) if app.settings.web_port is not None else None
        self.sender = DiscordSender(self)
        self.dispatcher = Dispatcher(app.sessions, app.clock, self.sender, policy, self._guild_locale)

    def _gateway(self) -> Gateway:
        """This process's gateway figures, for the metrics."""
        latency = self.latency
        shard_ids = tuple(getattr(self, "shard_ids", None) or (self.shard_id or 0,))
        return Gateway(
            latency_seconds=latency if latency == latency else 0.0,  # NaN before the first heartbeat
            shard_ids=shard_ids,
            shard_count=self.shard_count or 1,
            guilds=len(self.guilds),
        )

    async def setup_hook(self) -> None:
        """Migrate, load the directory, load every cog, start the scheduler, sync commands if changed."""
        await self.app.start(watch=True)
        await self.tree.set_translator(BotTranslator())
        for extension in discover_cogs():
            await self.load_extension(extension)
        self.add_listener(answer_unclaimed, "on_interaction")
        self.dispatcher.attach(self.scheduler)
        self.app.bell.subscribe(self.dispatcher.wake)
        self.scheduler.leadership.label = self.describe_process()
        self.scheduler.start()
        if self.web is not None:
            await self.web.start(self.settings.web_host, self.settings.web_port or 0)
        await self.sync_commands_if_changed()
        keep_long_lived(collect_all=True)

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

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """An event handler failed: log it with an incident id and keep running."""
        log_incident(f"event {event_method}", sys.exc_info()[1])

    @property
    def served_shards(self) -> tuple[tuple[int, ...], int]:
        """The shards this process serves and the shard count (an unsharded bot is shard 0 of 1)."""
        return (self.shard_id or 0,), self.shard_count or 1

    def describe_shards(self) -> str:
        """`shard 0 of 1`, `shards 0, 1 of 4`."""
        ids, count = self.served_shards
        return f"shard{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))} of {count}"

    def describe_process(self) -> str:
        """`shard 0 of 1, pid 4242 on host`: this process as `/status` and the scheduler's lease name it."""
        return f"{self.describe_shards()}, pid {os.getpid()} on {socket.gethostname()}"

    async def on_ready(self) -> None:
        """Log once per (re)connection."""
        log.info("ready as %s in %d guilds (%s)", self.user, len(self.guilds), self.describe_shards())

    def _guild_locale(self, guild_id: int) -> str | None:
        guild = self.get_guild(guild_id)
        return guild.preferred_locale.value if guild else None

    async def close(self) -> None:
        """Stop the scheduled work, then Discord, then the application's database."""
        await self.scheduler.shutdown()
        if self.web is not None:
            await self.web.stop()
        await super().close()
        await self.app.close()


class ShardedCodeForAllBot(CodeForAllBot, commands.AutoShardedBot):
    """The bot as an AutoShardedBot: one gateway session per shard it serves, on shards from SHARD_IDS/SHARD_COUNT.

    Discord routes a guild's events and interactions to shard `(guild_id >> 22) % shard_count`; REST calls (the
    outbox's posts) reach any guild from any shard.
    """

    @property
    def served_shards(self) -> tuple[tuple[int, ...], int]:
        """The shards launched here (all of SHARD_COUNT when SHARD_IDS is not set)."""
        ids = self.shard_ids if self.shard_ids is not None else range(self.shard_count or 1)
        return tuple(sorted(ids)), self.shard_count or 1


def create_bot(app: App, **options: Any) -> CodeForAllBot:
    """The bot for these settings: sharded when SHARD_COUNT is set, a plain single-session bot otherwise."""
    settings = app.settings
    if not settings.sharded:
        return CodeForAllBot(app, **options)
    return ShardedCodeForAllBot(app, shard_count=settings.shard_count, shard_ids=list(settings.shards), **options)
