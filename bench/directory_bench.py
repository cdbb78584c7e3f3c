"""Directory benchmark: bot-side latency of /projects and autocomplete, and throughput against a bare bot.

Bot-side time runs from the interaction arriving at the bot (INTERACTION_CREATE parsed) to its
callback leaving (the HTTP request starting). Throughput is end to end through the local sandbox,
our bot beside a bare discord.py bot answering a constant, in the same run.

    python bench/directory_bench.py                 # seed + real imports from ../shared
    python bench/directory_bench.py --synthetic 100000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands
from discord.state import ConnectionState
from discord.webhook.async_ import AsyncWebhookAdapter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.directory.records import ImportBatch, ProjectRecord  # noqa: E402
from bot.directory.service import DirectoryService  # noqa: E402
from bot.endpoints import use_endpoints  # noqa: E402
from bot.offline import start_session  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import create_engine, create_session_factory  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "directory"
REAL_FILES = [
    "cfa_brigade-information_organizations.json",
    "cti_project-index_index-v1_projects_codeforall_members.json",
]

arrived: dict[int, float] = {}
left: dict[int, float] = {}


def instrument() -> None:
    """Record when each interaction reaches the bot and when its callback leaves."""
    parse = ConnectionState.parse_interaction_create
    respond = AsyncWebhookAdapter.create_interaction_response

    def timed_parse(self: ConnectionState, data: Any) -> None:
        arrived[int(data["id"])] = time.perf_counter()
        parse(self, data)

    def timed_respond(self: AsyncWebhookAdapter, interaction_id: int, token: str, **kwargs: Any) -> Any:
        left[int(interaction_id)] = time.perf_counter()
        return respond(self, interaction_id, token, **kwargs)

    ConnectionState.parse_interaction_create = timed_parse  # type: ignore[method-assign]
    AsyncWebhookAdapter.create_interaction_response = timed_respond  # type: ignore[method-assign]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e3, p99 * 1e3, ordered[-1] * 1e3


def synthetic_projects(count: int, chapters: list[str]) -> ImportBatch:
    """Projects with realistic-looking names and descriptions."""
    rng = random.Random(7)
    words = [w for w in Path(__file__).read_text().split() if w.isalpha() and len(w) > 3]
    vocabulary = sorted({w.lower() for w in words}) + [f"civic{i}" for i in range(3000)]
    topics = ["elections", "transparency", "health", "budget", "transport", "housing", "education", "open data"]
    projects = tuple(
        ProjectRecord(
            key=f"synthetic/p{i}",
            chapter=rng.choice(chapters),
            name=" ".join(rng.sample(vocabulary, 3)).title(),
            description=" ".join(rng.sample(vocabulary, 20)),
            topics=tuple(rng.sample(topics, 2)),
            status="active",
        )
        for i in range(count)
    )
    return ImportBatch(projects=projects)


async def prepare(database_url: str, synthetic: int) -> tuple[int, int]:
    """Fill the database; returns (chapters, projects)."""
    engine = create_engine(database_url)
    await upgrade(engine)
    directory = DirectoryService(create_session_factory(engine))
    await directory.load(seed_file=ROOT / "data" / "directory.yaml")
    for name in REAL_FILES:
        if (SHARED / name).exists():
            await directory.import_file(SHARED / name, actor_name="bench")
    if synthetic:
        await directory.import_batch(synthetic_projects(synthetic, sorted(directory.chapters)), actor_name="bench")
    counts = len(directory.chapters), len(directory.projects)
    await engine.dispose()
    return counts


Run = Callable[[int], Awaitable[Any]]


async def drive(count: int, concurrency: int, run: Run) -> float:
    """Run `count` interactions, `concurrency` at a time; return the throughput in requests per second."""
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            await run(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def measure(label: str, count: int, concurrency: int, run: Run) -> list[str]:
    """Latency one request at a time (bot-side), then throughput `concurrency` at a time."""
    arrived.clear()
    left.clear()
    await drive(count, 1, run)
    samples = [left[i] - arrived[i] for i in left if i in arrived]
    p50, p99, worst = percentiles(samples)
    throughput = await drive(count, concurrency, run)
    return [label, str(len(samples)), f"{p50:.2f}", f"{p99:.2f}", f"{worst:.2f}", f"{throughput:.0f}"]


def constant_card() -> discord.Embed:
    """An embed the size of a chapter card, built once."""
    card = discord.Embed(title="Code for Romania", url="https://code4.ro", description="civic tech " * 60)
    for name in ("Where", "Region", "Network", "Founded", "Joined", "Projects", "In numbers", "Links"):
        card.add_field(name=name, value="a constant value of moderate length " * 2)
    card.set_footer(text="Also known as: Code4Romania, code4.ro")
    return card


async def bare_bot(count: int, concurrency: int) -> list[list[str]]:
    """The yardstick: a bare discord.py bot answering constants (a word, and an embed of a chapter's size)."""
    sandbox = Sandbox()
    await sandbox.start()
    user = sandbox.create_user("user")
    guild = sandbox.create_guild("bench", owner_id=user.id)
    channel = sandbox.find_channel(guild.id, "general")
    use_endpoints(sandbox.api_base, sandbox.gateway_url)
    bare = commands.Bot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.1)
    card = constant_card()

    @bare.tree.command(name="ping", description="constant")
    async def ping(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("pong")

    @bare.tree.command(name="card", description="constant embed")
    async def show_card(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(embed=card)

    async def setup_hook() -> None:
        await bare.tree.sync()

    bare.setup_hook = setup_hook  # type: ignore[method-assign]
    await bare.login(sandbox.bot_token)
    task = asyncio.create_task(bare.connect())
    await bare.wait_until_ready()
    try:
        return [
            await measure(
                f"bare bot: /{name} constant",
                count,
                concurrency,
                lambda i, name=name: sandbox.slash(guild.id, channel.id, user.id, name, {}, timeout=30),
            )
            for name in ("ping", "card")
        ]
    finally:
        await bare.close()
        await asyncio.gather(task, return_exceptions=True)
        await sandbox.stop()
        use_endpoints(None, None)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=0, help="add this many synthetic projects")
    parser.add_argument("--count", type=int, default=400, help="interactions per row")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    instrument()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    chapters, projects = await prepare(url, args.synthetic)
    print(f"directory: {chapters} chapters, {projects} projects (prepared in {time.perf_counter() - started:.1f} s)")

    rows = await bare_bot(args.count, args.concurrency)
    baseline = {"word": float(rows[0][-1]), "embed": float(rows[1][-1])}

    session = await start_session(load_settings(_env_file=None, database_url=url, data_dir=folder))
    s = session.sandbox
    rng = random.Random(3)
    names = sorted(p.name for p in session.bot.directory.projects.values())
    prefixes = [name[: rng.randint(1, 6)] for name in rng.sample(names, min(200, len(names)))]
    words = ["election", "data", "open", "health", "budget", "civic", "transparency", "monitorng", "map", "vote"]
    try:
        ratios = []
        cases: list[tuple[str, Run]] = [
            (
                "autocomplete /project name",
                lambda i: s.autocomplete(
                    session.guild_id,
                    session.channel_id,
                    session.member_id,
                    "project",
                    {"name": prefixes[i % len(prefixes)]},
                    focused="name",
                    timeout=30,
                ),
            ),
            (
                "autocomplete /chapter name",
                lambda i: s.autocomplete(
                    session.guild_id,
                    session.channel_id,
                    session.member_id,
                    "chapter",
                    {"name": prefixes[i % len(prefixes)][:3]},
                    focused="name",
                    timeout=30,
                ),
            ),
            (
                "/projects words",
                lambda i: s.slash(
                    session.guild_id,
                    session.channel_id,
                    session.member_id,
                    "projects",
                    {"words": words[i % len(words)]},
                    timeout=30,
                ),
            ),
            (
                "/chapter name",
                lambda i: s.slash(
                    session.guild_id,
                    session.channel_id,
                    session.member_id,
                    "chapter",
                    {"name": ["g0v", "code4romania", "Codeando Mexico", "code for afirca"][i % 4]},
                    timeout=30,
                ),
            ),
        ]
        for label, run in cases:
            row = await measure(label, args.count, args.concurrency, run)
            rows.append(row)
            ratios.append((label, float(row[-1])))
    finally:
        await session.stop()

    print(f"latency: bot-side, one request at a time; throughput: {args.concurrency} at a time, end to end")
    header = ["command", "n", "p50 ms", "p99 ms", "max ms", "req/s"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()
    for label, throughput in ratios:
        answer = "embed" if label.startswith("/") else "word"
        print(f"{label}: {throughput / baseline[answer]:.0%} of the bare bot answering a constant {answer}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process (sandbox and both bots): {peak:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
