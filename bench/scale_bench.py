"""Scale-out figures: shard processes on PostgreSQL against a bare discord.py bot, memory in many guilds,
leader takeover after SIGKILL, and outbox throughput with one and two processes. Prints markdown tables.

Every bot is a real subprocess (`python -m bot run`, or a bare discord.py script with our intents) connected
to the sandbox, which runs in this process with the driver. Latency is read off the sandbox: from the moment
it dispatches INTERACTION_CREATE to the moment the bot's interaction callback arrives (nothing in the bot is
instrumented). The PostgreSQL database given is wiped (its public schema dropped) before each measurement.

    python bench/scale_bench.py                         # the full run: 1,000 guilds of 100 members, ...
    python bench/scale_bench.py --quick                 # small numbers, a few minutes
    python bench/scale_bench.py --only rss --guilds 1000 --members 100 --ready-timeout 1800
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import json
import logging
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.delivery.outbox import Payload, enqueue  # noqa: E402
from bot.directory.service import DirectoryService  # noqa: E402
from bot.sandbox import InteractionTimeout, Sandbox, shard_of  # noqa: E402
from bot.sandbox.state import Guild, Message  # noqa: E402
from bot.ui.directory import PROJECTS, chapter_embed, projects_args, projects_listing  # noqa: E402
from bot.ui.pages import PageButton, render_page  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import create_engine, create_session_factory  # noqa: E402

DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1/scale_bench"
SEED = ROOT / "data" / "directory.yaml"
READY = "ready as "  # our bot's log line: "ready as NAME in N guilds (shard ...)"
BARE_READY = "bare bot ready in "
LEADS = "this process now runs the scheduled work"
CHAPTER = "g0v"
WORDS = ("data", "open", "civic", "health", "budget", "election", "transparency", "map")
LOCALE = "en-US"
TAKEOVER_AIM = 10.0
RSS_AIM = 1.2
SETTLE_SECONDS = 3.0

BARE_BOT = r'''
"""A bare discord.py bot with our intents (default + members, messages off), answering /chapter and /projects
with the very messages ours sends for the bench's options, read from constants."""
import json
import os
import re
from typing import Any

import discord
import yarl
from discord.ext import commands

discord.http.Route.BASE = os.environ["DISCORD_API_URL"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
intents = discord.Intents.default()
intents.members = True
intents.messages = False
if os.environ.get("BARE_SHARD"):  # "id,count": one shard of several, as ours runs
    shard_id, shard_count = (int(n) for n in os.environ["BARE_SHARD"].split(","))
    bot = commands.AutoShardedBot(
        command_prefix=commands.when_mentioned,
        help_command=None,
        intents=intents,
        shard_ids=[shard_id],
        shard_count=shard_count,
    )
else:
    bot = commands.Bot(command_prefix=commands.when_mentioned, help_command=None, intents=intents)
answers = json.loads(os.environ["BARE_ANSWERS"])
card = discord.Embed.from_dict(answers["chapter"])
pages = {words: (discord.Embed.from_dict(page["embed"]), page["buttons"]) for words, page in answers["projects"].items()}


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"pg:(?P<rest>.*)"):
    def __init__(self, label: str, custom_id: str, disabled: bool) -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=custom_id, disabled=disabled))

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /) -> "PageButton":
        return cls(item.label, item.custom_id, item.disabled)


@bot.tree.command(name="chapter", description="A constant card")
async def chapter(interaction: discord.Interaction, name: str) -> None:
    await interaction.response.send_message(embed=card)


@bot.tree.command(name="projects", description="A constant page")
async def projects(interaction: discord.Interaction, words: str) -> None:
    embed, buttons = pages[words]
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(PageButton(**button))
    await interaction.response.send_message(embed=embed, view=view)


async def setup_hook() -> None:
    bot.add_dynamic_items(PageButton)
    await bot.tree.sync()


bot.setup_hook = setup_hook


@bot.event
async def on_ready() -> None:
    print(f"bare bot ready in {len(bot.guilds)} guilds", flush=True)


bot.run(os.environ["DISCORD_TOKEN"], log_handler=None)
'''


class BenchError(Exception):
    """A measurement could not be made: one paragraph, with the bots' log tails."""


# --- subprocesses ------------------------------------------------------------------------------------------

RUNNING: list[BotProcess] = []


class BotProcess:
    """A bot subprocess logging to a file; every one started is stopped at exit."""

    def __init__(self, label: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.label = label
        self.log_path = folder / f"{label}.log"
        folder.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.started = time.monotonic()
        self.killed = False
        self.process = subprocess.Popen(args, cwd=folder, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        RUNNING.append(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def logged(self, line: str) -> bool:
        return line in self.log()

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM (kB) from /proc/PID/status."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
        return fields

    def cpu_seconds(self) -> float:
        """User + system CPU time so far, from /proc/PID/stat."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        after_name = stat[stat.rindex(")") + 2 :].split()
        return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")

    def sigkill(self) -> None:
        self.killed = True
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)


def stop_all() -> None:
    """Stop every bot process still running (also at exit, whatever happened)."""
    for bot in list(RUNNING):
        with contextlib.suppress(Exception):
            bot.stop()


atexit.register(stop_all)


def _env(sandbox: Sandbox, folder: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DISCORD_", "SHARD_", "WEB_"))}
    return env | {
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": sandbox.bot_token,
        "DISCORD_API_URL": sandbox.api_base,
        "DISCORD_GATEWAY_URL": sandbox.gateway_url,
        **extra,
    }


def start_ours(
    label: str,
    sandbox: Sandbox,
    database_url: str,
    folder: Path,
    shards: tuple[int, int] | None = None,
) -> BotProcess:
    """`python -m bot run`, as shard `shards = (id, count)` or unsharded."""
    env = _env(
        sandbox,
        folder,
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(folder / f"data-{label}"),
            "SEED_FILE": str(SEED),
            "DELIVERY_POLL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        },
    )
    args = [sys.executable, "-m", "bot", "run"]
    if shards is not None:
        args += ["--shard-ids", str(shards[0]), "--shard-count", str(shards[1])]
    return BotProcess(label, args, env, folder)


def start_bare(
    label: str, sandbox: Sandbox, folder: Path, answers: dict[str, Any], shards: tuple[int, int] | None = None
) -> BotProcess:
    """The bare discord.py bot, sending `answers` (see `seed`), as shard `shards = (id, count)` or unsharded."""
    extra = {"BARE_ANSWERS": json.dumps(answers)}
    if shards is not None:
        extra["BARE_SHARD"] = f"{shards[0]},{shards[1]}"
    env = _env(sandbox, folder, extra)
    return BotProcess(label, [sys.executable, "-c", BARE_BOT], env, folder)


async def until(
    check: Callable[[], object],
    timeout: float,  # noqa: ASYNC109
    what: str,
    bots: Sequence[BotProcess],
) -> float:
    """Poll `check()` every 20 ms; the seconds it took, or BenchError with the bots' logs."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise BenchError(f"{what} did not happen within {timeout:.0f} s\n{tails(bots)}")
        for bot in bots:
            if bot.process.poll() is not None and not bot.killed:
                raise BenchError(f"{bot.label} exited with {bot.process.returncode} before {what}\n{tails([bot])}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def tails(bots: Sequence[BotProcess]) -> str:
    return "\n".join(f"--- {b.label} ({b.log_path})\n{b.log()[-3000:]}" for b in bots)


# --- world and database ---------------------------------------------------------------------------------


def build_guilds(sandbox: Sandbox, guilds: int, members: int, channels: int = 0) -> list[Guild]:
    """`guilds` guilds of `members` people (the owner among them), each with `channels` extra channels."""
    made = []
    for n in range(guilds):
        owner = sandbox.create_user(f"owner{n}")
        guild = sandbox.create_guild(f"Chapter {n}", owner_id=owner.id)
        for m in range(members - 1):
            sandbox.add_member(guild.id, sandbox.create_user(f"member{n}-{m}").id)
        for c in range(channels):
            sandbox.create_channel(guild.id, f"c{c}")
        made.append(guild)
    return made


def own_database(url: str) -> URL:
    """The parsed URL, if it names a PostgreSQL database the bench may wipe."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise BenchError(f"--database-url must be PostgreSQL (several processes share it), not {url}")
    if parsed.database in (None, "", "test", "postgres"):
        raise BenchError(f"the bench wipes the database it is given; use one of its own, not {parsed.database!r}")
    return parsed


async def fresh_database(url: str) -> dict[str, Any]:
    """Create the database if missing, drop and recreate its public schema, migrate and seed the directory.

    Returns what the bare bot answers (see `seed`).
    """
    parsed = own_database(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            )
            if not found:
                await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    return await seed(url)


async def seed(url: str) -> dict[str, Any]:
    """Migrate and load the seed directory; returns what our /chapter and /projects answer to the bench's options,
    for the bare bot to send as constants: {"chapter": embed, "projects": {words: {"embed", "buttons"}}}."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        directory = DirectoryService(create_session_factory(engine))
        await directory.load(seed_file=SEED)
        chapter = directory.find_chapter(CHAPTER)
        pages = {}
        for words in WORDS:
            args = {k: v for k, v in projects_args(directory, words, "", "", "").items() if v}
            page = render_page(PROJECTS, args, projects_listing(directory, args, LOCALE), 0, LOCALE)
            buttons = [
                {"label": b.item.label, "custom_id": b.custom_id, "disabled": b.item.disabled}
                for b in page.view().children
                if isinstance(b, PageButton)
            ]
            pages[words] = {"embed": page.embed.to_dict(), "buttons": buttons}
        card = chapter_embed(chapter, directory.chapter_projects(chapter.key), LOCALE)
        return {"chapter": card.to_dict(), "projects": pages}
    finally:
        await engine.dispose()


async def server_version(url: str) -> str:
    engine = create_async_engine(make_url(url).set(database="postgres"))
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(text("SHOW server_version")))
    except Exception as error:
        raise BenchError(f"cannot reach PostgreSQL at {url}: {error}") from error
    finally:
        await engine.dispose()


# --- throughput and latency ------------------------------------------------------------------------------


@dataclass
class Setup:
    """One throughput row: which bot, in how many processes, each serving one shard of that many."""

    label: str
    processes: int
    bare: bool
    commands: tuple[str, str] = ("chapter", "projects")


@dataclass
class Pass:
    """One pass of interactions: how long it took, each command's latencies, what went unanswered, CPU used."""

    sent: int
    seconds: float
    latencies: dict[str, list[float]]
    unanswered: int
    bot_cpu: float
    sandbox_cpu: float

    @property
    def every(self) -> list[float]:
        return [x for v in self.latencies.values() for x in v]


def merged(passes: Sequence[Pass]) -> Pass:
    """Several passes as one: their counts, times and CPU summed, their latencies pooled."""
    latencies: dict[str, list[float]] = {}
    for one in passes:
        for name, samples in one.latencies.items():
            latencies.setdefault(name, []).extend(samples)
    return Pass(
        sum(p.sent for p in passes),
        sum(p.seconds for p in passes),
        latencies,
        sum(p.unanswered for p in passes),
        sum(p.bot_cpu for p in passes),
        sum(p.sandbox_cpu for p in passes),
    )


def rate(one: Pass) -> float:
    return one.sent / one.seconds if one.seconds else 0.0


@dataclass
class Measured:
    """A row: one pass one at a time, and passes in flight each paired with a bare bot's pass run just before."""

    label: str
    processes: int
    alone: Pass
    loaded: list[Pass]
    bare: list[Pass] | None  # the bare bot's passes, each run just before the one of `loaded` at its place

    @property
    def ratios(self) -> list[float]:
        pairs = zip(self.loaded, self.bare or [], strict=True)
        return [rate(ours) / rate(bare) for ours, bare in pairs if rate(bare)]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def options_for(command: str, index: int) -> dict[str, str]:
    if command == "chapter":
        return {"name": CHAPTER}
    if command == "projects":
        return {"words": WORDS[index % len(WORDS)]}
    return {}


async def drive(
    sandbox: Sandbox, guilds: list[Guild], commands: tuple[str, ...], count: int, concurrency: int
) -> tuple[float, int]:
    """Send `count` interactions, `concurrency` in flight, across guilds and commands; (seconds, timeouts)."""
    queue: Iterator[int] = iter(range(count))
    timeouts = 0

    async def worker() -> None:
        nonlocal timeouts
        for index in queue:
            guild = guilds[index % len(guilds)]
            command = commands[(index // len(guilds)) % len(commands)]
            channel = guild.system_channel_id or 0
            try:
                await sandbox.slash(
                    guild.id, channel, guild.owner_id, command, options_for(command, index), locale=LOCALE, timeout=30
                )
            except InteractionTimeout:
                timeouts += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, timeouts


class Running:
    """A setup's bots, ready, against a sandbox of their own, and a way to drive them."""

    def __init__(self, setup: Setup, sandbox: Sandbox, guilds: list[Guild], bots: list[BotProcess]) -> None:
        self.setup = setup
        self.sandbox = sandbox
        self.guilds = guilds
        self.bots = bots

    async def drive(self, count: int, concurrency: int) -> None:
        await drive(self.sandbox, self.guilds, self.setup.commands, count, concurrency)

    async def measure(self, count: int, concurrency: int) -> Pass:
        before = set(self.sandbox.state.interactions)
        # The driver's own garbage collection stays out of the pass: its full passes over every sandbox's state
        # would land on whichever bot happens to be driven, as they do in timeit.
        gc.collect()
        gc.disable()
        try:
            cpu = [b.cpu_seconds() for b in self.bots]
            own_cpu = time.process_time()
            seconds, _ = await drive(self.sandbox, self.guilds, self.setup.commands, count, concurrency)
            own_cpu = time.process_time() - own_cpu
        finally:
            gc.enable()
        bot_cpu = sum(b.cpu_seconds() - c for b, c in zip(self.bots, cpu, strict=True))
        records = [r for i, r in self.sandbox.state.interactions.items() if i not in before]
        self.sandbox.state.forget_interactions(r.id for r in records)  # read: a long run stays small
        latencies: dict[str, list[float]] = {name: [] for name in self.setup.commands}
        for record in records:
            if record.answered is not None and not record.errors:
                latencies[record.command_name or "?"].append(record.answered - record.created)
        answered = sum(len(v) for v in latencies.values())
        return Pass(len(records), seconds, latencies, len(records) - answered, bot_cpu, own_cpu)


@contextlib.asynccontextmanager
async def running(
    setup: Setup, args: argparse.Namespace, folder: Path, answers: dict[str, Any]
) -> AsyncIterator[Running]:
    """Start a setup's processes against a fresh sandbox (and database) and warm them up; stop them after."""
    sandbox = Sandbox()
    await sandbox.start()
    bots: list[BotProcess] = []
    try:
        guilds = build_guilds(sandbox, args.throughput_guilds, 1)
        count = setup.processes
        per_shard = Counter(shard_of(g.id, count) for g in guilds)
        if len(per_shard) != count:
            raise BenchError(f"{len(guilds)} guilds do not cover {count} shards: {dict(per_shard)}")
        if setup.bare:
            bots = [start_bare(f"bare-{count}-shard{n}", sandbox, folder, answers, (n, count)) for n in range(count)]
            ready = BARE_READY
        else:
            await fresh_database(args.database_url)
            bots = [
                start_ours(f"ours-{count}-shard{n}", sandbox, args.database_url, folder, (n, count))
                for n in range(count)
            ]
            ready = READY
        took = await until(lambda: all(b.logged(ready) for b in bots), args.ready_timeout, "ready", bots)
        await until(
            lambda: {c["name"] for c in sandbox.state.global_commands} >= set(setup.commands), 60, "commands", bots
        )
        print(f"  {setup.label}: ready in {took:.1f} s", file=sys.stderr)
        # Warm-up: let the start-up work (command sync, scheduled events, first status line) finish, then touch
        # every command in every guild one at a time, then a pass in flight; none of it is measured.
        await asyncio.sleep(SETTLE_SECONDS)
        row = Running(setup, sandbox, guilds, bots)
        await row.drive(len(guilds) * len(setup.commands) * 2, 1)
        await row.drive(warm_up(args), args.concurrency)
        yield row
    finally:
        for bot in bots:
            bot.stop()
        await sandbox.stop()


async def throughput(args: argparse.Namespace, folder: Path) -> None:
    """Each of our setups beside the bare bot in the same layout, both running at once: their passes in flight
    alternate, so the machine's drift (other tenants, clock speed) reaches both sides of each ratio alike."""
    answers = await fresh_database(args.database_url)
    alone = max(args.count // 4, args.throughput_guilds * 2)
    rows: list[Measured] = []
    for processes in args.processes:
        layout = f"{processes} process{'es' if processes > 1 else ''} × 1 shard of {processes}"
        bare_setup = Setup(f"bare discord.py (the same answers, constant), {layout}", processes, True)
        ours_setup = Setup(f"ours, {layout}", processes, False)
        async with (
            running(bare_setup, args, folder, answers) as bare,
            running(ours_setup, args, folder, answers) as ours,
        ):
            bare_alone, ours_alone = await bare.measure(alone, 1), await ours.measure(alone, 1)
            bare_passes, ours_passes = [], []
            for _ in range(args.rounds):
                bare_passes.append(await bare.measure(args.count, args.concurrency))
                ours_passes.append(await ours.measure(args.count, args.concurrency))
        rows.append(Measured(bare_setup.label, processes, bare_alone, bare_passes, None))
        rows.append(Measured(ours_setup.label, processes, ours_alone, ours_passes, bare_passes))
    print(f"### Interactions over {args.throughput_guilds} guilds")
    print()
    header = [
        "bot",
        "processes",
        f"interactions/s, {args.concurrency} in flight (median of passes)",
        "of the bare bot's in the same layout and rounds (median)",
        f"p50 / p99 ms, {args.concurrency} in flight",
        "p50 / p99 ms, one at a time",
        "one at a time: /chapter",
        "one at a time: /projects",
        "unanswered",
        "bot CPU ms per interaction",
        "sandbox CPU ms per interaction",
    ]
    lines = []
    for m in rows:
        first, second = (m.alone.latencies[name] for name in m.alone.latencies)
        pooled = merged(m.loaded)
        lines.append(
            [
                m.label,
                str(m.processes),
                f"{statistics.median(rate(p) for p in m.loaded):.0f}",
                f"{statistics.median(m.ratios):.0%}" if m.bare else "",
                spread(pooled.every),
                spread(m.alone.every),
                spread(first),
                spread(second),
                f"{m.alone.unanswered + pooled.unanswered} of {m.alone.sent + pooled.sent}",
                f"{pooled.bot_cpu / max(pooled.sent, 1) * 1e3:.2f}",
                f"{pooled.sandbox_cpu / max(pooled.sent, 1) * 1e3:.2f}",
            ]
        )
    table(header, lines)
    print(
        f"Each row: {alone} interactions one at a time, then {args.rounds} passes of {args.count} with "
        f"{args.concurrency} in flight, each right after a pass of the bare bot's in the same layout (both run "
        "throughout, idle between passes; the driver collects its garbage before each pass, not during), after "
        f"{SETTLE_SECONDS:.0f} s of rest from ready and a warm-up of {warm_up(args)} in flight. "
        "Latency: from the sandbox dispatching INTERACTION_CREATE to the bot's interaction callback "
        "arriving (gateway, the bot's parsing and handler, the REST request); in flight it includes the queueing. "
        f"/chapter answers {CHAPTER}'s card, /projects a search by one word (a page of results with buttons); the "
        "bare bot has the same commands and sends the same messages, read from constants. Each process serves one "
        "shard (ours on one PostgreSQL database); the guilds are spread evenly over the shards. The sandbox and "
        "the driver run in one more process on the same machine, so throughput is bounded by the cores every process shares (CPU columns, in flight)."
    )
    print()


def warm_up(args: argparse.Namespace) -> int:
    """Unmeasured interactions in flight before a row's passes."""
    return max(args.count // 4, args.throughput_guilds * 4)


def spread(samples: list[float]) -> str:
    """`p50 / p99` in milliseconds."""
    if not samples:
        return "-"
    return f"{statistics.median(samples) * 1e3:.1f} / {percentile(samples, 0.99) * 1e3:.1f}"


# --- memory and time to ready ----------------------------------------------------------------------------


@dataclass
class Memory:
    label: str
    guilds: int
    members: int
    ready: float
    rss_kb: int
    hwm_kb: int


async def memory_of(
    label: str, guilds: int, members: int, args: argparse.Namespace, folder: Path, answers: dict[str, Any]
) -> Memory:
    """Build a sandbox of `guilds` x `members`, start the bot, wait for ready and 2 s more, read its memory."""
    sandbox = Sandbox()
    await sandbox.start()
    bot: BotProcess | None = None
    try:
        built = time.monotonic()
        build_guilds(sandbox, guilds, members)
        print(
            f"  sandbox: {guilds} guild(s) x {members} members built in {time.monotonic() - built:.1f} s",
            file=sys.stderr,
        )
        name = f"{label}-{guilds}"
        if label == "bare":
            started, ready = start_bare(name, sandbox, folder, answers), BARE_READY
        else:
            url = f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
            await seed(url)  # a restart on a migrated, seeded database, as in production
            started, ready = start_ours(name, sandbox, url, folder), READY
        bot = started
        await until(lambda: started.logged(ready), args.ready_timeout, "ready", [started])
        took = time.monotonic() - started.started
        print(f"  {name}: ready in {took:.1f} s", file=sys.stderr)
        await asyncio.sleep(2.0)
        status = started.status()
        return Memory(label, guilds, members, took, status["VmRSS"], status["VmHWM"])
    finally:
        if bot is not None:
            bot.stop()
        await sandbox.stop()


async def memory(args: argparse.Namespace, folder: Path) -> None:
    answers = await fresh_database(args.database_url)
    rows = [
        await memory_of(label, guilds, args.members, args, folder, answers)
        for guilds in (1, args.guilds)
        for label in ("bare", "ours")
    ]
    print(f"### Memory and time to ready: {args.guilds} guilds of {args.members} members")
    print()
    header = ["bot", "guilds", "members each", "time to ready s", "VmRSS MiB", "VmHWM MiB", "RSS / bare"]
    bare = {m.guilds: m.rss_kb for m in rows if m.label == "bare"}
    table(
        header,
        [
            [
                "bare discord.py" if m.label == "bare" else "ours (python -m bot run, SQLite)",
                str(m.guilds),
                str(m.members),
                f"{m.ready:.1f}",
                f"{m.rss_kb / 1024:.0f}",
                f"{m.hwm_kb / 1024:.0f}",
                f"{m.rss_kb / bare[m.guilds]:.2f}",
            ]
            for m in rows
        ],
    )
    big = {m.label: m for m in rows if m.guilds == args.guilds}
    small = {m.label: m for m in rows if m.guilds == 1}
    ratio = big["ours"].rss_kb / big["bare"].rss_kb
    print(
        f"Read 2 s after ready, from /proc/PID/status. Both bots: default intents + members, messages off. Time to "
        "ready runs from the process start to its ready line (ours: `ready as ...`, logged by on_ready; bare: "
        "printed by on_ready), on a database already migrated and seeded. "
        f"RSS at {args.guilds} guilds: {ratio:.2f} × the bare bot (aim: at most {RSS_AIM} ×); past the 1-guild "
        f"start-up cost the guilds add {(big['ours'].rss_kb - small['ours'].rss_kb) / 1024:.0f} MiB to ours, "
        f"{(big['bare'].rss_kb - small['bare'].rss_kb) / 1024:.0f} MiB to the bare bot."
    )
    print()


# --- leader takeover ---------------------------------------------------------------------------------------


async def takeover_once(args: argparse.Namespace, folder: Path, round_: int) -> float:
    """Two shard processes; SIGKILL the leader; seconds until the other logs that it runs the scheduled work."""
    await fresh_database(args.database_url)
    sandbox = Sandbox()
    await sandbox.start()
    bots: list[BotProcess] = []
    try:
        build_guilds(sandbox, 2, 1)
        bots = [start_ours(f"takeover{round_}-shard{n}", sandbox, args.database_url, folder, (n, 2)) for n in range(2)]
        await until(lambda: all(b.logged(READY) for b in bots), args.ready_timeout, "both shards ready", bots)
        await until(lambda: any(b.logged(LEADS) for b in bots), 30, "a leader", bots)
        leader = next(b for b in bots if b.logged(LEADS))
        standby = next(b for b in bots if b is not leader)
        if standby.logged(LEADS):
            raise BenchError(f"both processes claim the lead\n{tails(bots)}")
        await asyncio.sleep(1.0)
        leader.sigkill()
        return await until(lambda: standby.logged(LEADS), 60, "the standby taking over", bots)
    finally:
        for bot in bots:
            bot.stop()
        await sandbox.stop()


async def takeover(args: argparse.Namespace, folder: Path) -> None:
    took = [await takeover_once(args, folder, n) for n in range(args.takeovers)]
    print("### Leader takeover after SIGKILL (2 shard processes on PostgreSQL)")
    print()
    table(
        ["rounds", "median s", "max s", f"under {TAKEOVER_AIM:.0f} s"],
        [[str(len(took)), f"{statistics.median(took):.2f}", f"{max(took):.2f}", "yes" if max(took) < 10 else "no"]],
    )
    print(
        "From the leader's SIGKILL to the standby logging `this process now runs the scheduled work`. Every "
        "process tries to take the advisory lock every 2 s; PostgreSQL frees it when the dead leader's "
        "connection closes."
    )
    print()


# --- outbox throughput --------------------------------------------------------------------------------------


@dataclass
class Fanout:
    processes: int
    deliveries: int
    channels: int
    to_last: float
    first_to_last: float
    doubled: int
    cpu: list[float]
    sandbox_cpu: float


async def outbox_once(args: argparse.Namespace, folder: Path, processes: int) -> Fanout:
    """Enqueue the deliveries in one transaction once a leader runs; time until the sandbox has every post."""
    await fresh_database(args.database_url)
    sandbox = Sandbox(rate_limits=False)
    await sandbox.start()
    engine = create_engine(args.database_url)
    bots: list[BotProcess] = []
    try:
        (guild,) = build_guilds(sandbox, 1, 1, args.channels)
        targets = [c.id for c in guild.channels.values() if c.name.startswith("c")]
        bots = [
            start_ours(f"outbox{processes}-shard{n}", sandbox, args.database_url, folder, (n, processes))
            for n in range(processes)
        ]
        await until(lambda: all(b.logged(READY) for b in bots), args.ready_timeout, "ready", bots)
        await until(lambda: any(b.logged(LEADS) for b in bots), 30, "a leader", bots)
        leader = next(b for b in bots if b.logged(LEADS))
        bot_id = sandbox.state.bot_id
        times: list[float] = []

        def on_message(message: Message) -> None:
            if message.author_id == bot_id and message.content.startswith("post "):
                times.append(time.monotonic())

        sandbox.state.message_listeners.append(on_message)
        per_channel = max(1, args.deliveries // len(targets))
        async with create_session_factory(engine).begin() as session:
            for n in range(per_channel):
                for channel_id in targets:
                    await enqueue(
                        session,
                        kind="bench",
                        key=f"post-{n}",
                        guild_id=guild.id,
                        channel_id=channel_id,
                        payload=Payload(content=f"post {n}"),
                        due_at=datetime.now(UTC),
                    )
        expected = per_channel * len(targets)
        cpu = [b.cpu_seconds() for b in bots]
        own_cpu = time.process_time()
        committed = time.monotonic()
        await until(lambda: len(times) >= expected, args.outbox_timeout, f"{expected} posts", bots)
        to_last = time.monotonic() - committed
        own_cpu = time.process_time() - own_cpu
        cpu = [b.cpu_seconds() - c for b, c in zip(bots, cpu, strict=True)]
        await asyncio.sleep(1.0)  # a doubled post would land by now
        counts = Counter((m.channel_id, m.content) for c in targets for m in sandbox.state.channel_messages_of(c))
        doubled = sum(n - 1 for n in counts.values() if n > 1)
        leader_first = [cpu[bots.index(leader)], *(c for b, c in zip(bots, cpu, strict=True) if b is not leader)]
        return Fanout(processes, expected, len(targets), to_last, times[-1] - times[0], doubled, leader_first, own_cpu)
    finally:
        for bot in bots:
            bot.stop()
        await engine.dispose()
        await sandbox.stop()


async def outbox(args: argparse.Namespace, folder: Path) -> None:
    rows = [await outbox_once(args, folder, processes) for processes in (1, 2)]
    print(f"### Outbox: {rows[0].deliveries} deliveries over {rows[0].channels} channels, rate limits off")
    print()
    table(
        [
            "processes",
            "deliveries",
            "s from commit to last post",
            "posts/s (first to last post)",
            "doubled",
            "CPU s: leader / standby",
            "leader CPU ms per post",
            "sandbox CPU ms per post",
        ],
        [
            [
                str(f.processes),
                str(f.deliveries),
                f"{f.to_last:.2f}",
                f"{(f.deliveries - 1) / f.first_to_last:.0f}" if f.first_to_last > 0 else "-",
                str(f.doubled),
                " / ".join(f"{c:.1f}" for c in f.cpu),
                f"{f.cpu[0] / f.deliveries * 1e3:.1f}",
                f"{f.sandbox_cpu / f.deliveries * 1e3:.1f}",
            ]
            for f in rows
        ],
    )
    print(
        "One transaction enqueues every delivery from outside the bots; the leader's dispatcher finds them at its "
        "next poll (DELIVERY_POLL_SECONDS=1), so the first column includes up to a second of waiting. Only the "
        "leader runs the dispatcher (bot/delivery/dispatcher.py): with two processes the standby claims nothing "
        "and the leader posts alone, as the CPU column shows, so the two-process figure is one leader's."
    )
    print()


# --- output ----------------------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def machine(postgres: str) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("## Scale-out figures")
    print()
    print(
        f"Machine: {os.cpu_count()} CPUs ({usable} usable here), {model or platform.processor() or 'unknown CPU'}, "
        f"{total / 1024 / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}, discord.py {discord.__version__}, PostgreSQL {postgres}; "
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC."
    )
    print()


# --- main ------------------------------------------------------------------------------------------------

SECTIONS = {"throughput": throughput, "rss": memory, "takeover": takeover, "outbox": outbox}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="a PostgreSQL database of its own (wiped)")
    parser.add_argument("--quick", action="store_true", help="small numbers: 50 guilds x 20 members, 200 interactions")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--guilds", type=int, help="guilds for the memory row (default 1000)")
    parser.add_argument("--members", type=int, help="members per guild for the memory row (default 100)")
    parser.add_argument("--count", type=int, help="interactions per throughput row (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="passes in flight per throughput row, each paired")
    parser.add_argument("--concurrency", type=int, default=8, help="interactions in flight")
    parser.add_argument("--throughput-guilds", type=int, default=8, help="guilds the interactions are spread over")
    parser.add_argument("--processes", default="1,2,4", help="shard process counts for the throughput rows")
    parser.add_argument("--takeovers", type=int, help="takeover rounds (default 5)")
    parser.add_argument("--deliveries", type=int, help="outbox deliveries (default 2000)")
    parser.add_argument("--channels", type=int, help="channels they go to (default 200)")
    parser.add_argument("--ready-timeout", type=float, default=1800.0, help="seconds a bot may take to be ready")
    parser.add_argument("--outbox-timeout", type=float, default=600.0, help="seconds for every post to arrive")
    parser.add_argument("--keep-logs", action="store_true", help="keep the bots' logs (printed on failure anyway)")
    args = parser.parse_args(argv)
    defaults = (
        {"guilds": 50, "members": 20, "count": 200, "takeovers": 1, "deliveries": 400, "channels": 40}
        if args.quick
        else {"guilds": 1000, "members": 100, "count": 2000, "takeovers": 5, "deliveries": 2000, "channels": 200}
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    try:
        args.processes = [int(p) for p in args.processes.split(",")]
    except ValueError:
        parser.error("--processes takes counts like 1,2,4")
    if any(p < 1 for p in args.processes) or args.throughput_guilds < max(args.processes):
        parser.error("--throughput-guilds must be at least the largest process count, every count at least 1")
    if min(args.guilds, args.members, args.count, args.rounds, args.takeovers, args.deliveries, args.channels) < 1:
        parser.error("counts must be at least 1")
    return args


async def run(args: argparse.Namespace, folder: Path) -> None:
    own_database(args.database_url)
    machine(await server_version(args.database_url))
    for name in args.sections:
        print(f"running {name} ...", file=sys.stderr)
        await SECTIONS[name](args, folder)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.getLogger("bot.directory.service").setLevel(logging.ERROR)  # seeding each fresh database is intended
    folder = Path(tempfile.mkdtemp(prefix="scale-bench-"))

    def terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    failed = True
    try:
        asyncio.run(run(args, folder))
        failed = False
    except BenchError as error:
        print(f"scale_bench: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("scale_bench: interrupted", file=sys.stderr)
    finally:
        stop_all()
        if (failed and any(folder.glob("*.log"))) or args.keep_logs:
            print(f"scale_bench: the bots' logs are in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
