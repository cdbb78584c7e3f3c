"""The bot against the local sandbox: the offline demo console and the end-to-end test bed."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.app import App
from bot.client import CodeForAllBot, create_bot
from bot.clock import Clock
from bot.config import Settings
from bot.endpoints import use_endpoints
from bot.sandbox import DriverError, Sandbox


@dataclass(slots=True)
class SandboxSession:
    """A running sandbox with the bot connected, a guild, an organiser (its owner) and a plain member."""

    sandbox: Sandbox
    bot: CodeForAllBot
    task: asyncio.Task[None]
    guild_id: int
    channel_id: int
    organiser_id: int
    member_id: int

    async def stop(self) -> None:
        """Close the bot, then the sandbox, and point discord.py back at Discord."""
        await self.bot.close()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.sandbox.stop()
        use_endpoints(None, None)


async def start_session(
    settings: Settings,
    *,
    sandbox: Sandbox | None = None,
    port: int = 0,
    guild_name: str = "Code for All",
    clock: Clock | None = None,
) -> SandboxSession:
    """Start the sandbox with one guild, connect the real bot to it, and wait until it is ready."""
    sandbox = sandbox or Sandbox()
    await sandbox.start(port=port)
    organiser = sandbox.create_user("you")
    guild = sandbox.create_guild(guild_name, owner_id=organiser.id)
    member = sandbox.create_user("ana")
    sandbox.add_member(guild.id, member.id)
    channel = sandbox.find_channel(guild.id, "general")
    use_endpoints(sandbox.api_base, sandbox.gateway_url)
    settings = settings.model_copy(
        update={
            "discord_api_url": sandbox.api_base,
            "discord_gateway_url": sandbox.gateway_url,
            # The sandbox's guild is the network's home server, so its organisers can edit the directory.
            "home_guild_id": guild.id,
            "feeds_allow_private": True,
        }
    )
    bot = create_bot(App.create(settings, clock=clock), guild_ready_timeout=0.1)
    try:
        await bot.login(sandbox.bot_token)
        task = asyncio.create_task(bot.connect())
        await asyncio.wait_for(bot.wait_until_ready(), timeout=60)
    except BaseException:
        await bot.close()
        await sandbox.stop()
        use_endpoints(None, None)
        raise
    return SandboxSession(sandbox, bot, task, guild.id, channel.id, organiser.id, member.id)


def sandbox_settings(settings: Settings) -> Settings:
    """Keep the sandbox's data apart from a real bot's: its own SQLite file unless DATABASE_URL is set."""
    if settings.database_url:
        return settings
    return settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{settings.data_dir / 'sandbox.db'}"})


RESET_HELP = (
    "start over: the bot's sandbox database ({database}) is deleted and re-seeded, so the directory is back "
    "to the seed and settings and history are gone; the guild, its channels and messages are new; "
    "saved files stay in {files}"
)


async def run_sandbox(settings: Settings, script: Path | None = None) -> None:
    """Run the bot in the sandbox and open the console (or replay `script`)."""
    from bot.sandbox.console import Reset, Seat, run_console

    own_database = not settings.database_url
    settings = sandbox_settings(settings)
    database = settings.data_dir / "sandbox.db"
    files = settings.data_dir / "sandbox-files"
    session = await start_session(settings, port=settings.sandbox_port)

    def seat() -> Seat:
        people = {"organiser": session.organiser_id, "member": session.member_id}
        return Seat(session.sandbox, session.guild_id, session.channel_id, people)

    async def start_over() -> Seat:
        nonlocal session
        if not own_database:
            raise DriverError("reset deletes only the sandbox's own database, and DATABASE_URL is set")
        await session.stop()
        for path in (database, *(database.with_name(database.name + tail) for tail in ("-wal", "-shm", "-journal"))):
            path.unlink(missing_ok=True)
        session = await start_session(settings, port=settings.sandbox_port)
        return seat()

    try:
        print(
            f"Sandbox at {session.sandbox.url}: you are 'you', an organiser of the guild 'Code for All' "
            "('as member' to type as ana, a plain member). Type /help for the commands, quit to leave.",
            flush=True,
        )
        lines = script.read_text(encoding="utf-8").splitlines() if script else None
        await run_console(
            session.sandbox,
            session.guild_id,
            session.channel_id,
            session.organiser_id,
            lines=lines,
            out=sys.stdout,
            people=seat().people,
            files=files,
            history=settings.data_dir / "sandbox-history",
            reset=Reset(start_over, RESET_HELP.format(database=database, files=files)),
        )
    finally:
        await session.stop()
