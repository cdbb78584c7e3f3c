"""Feeds benchmark: one poll cycle over 500 local feeds, and the whole hostile corpus ingested.

The poll cycle runs against a local feed server in a process of its own (a mix of feeds with new posts, 304s,
slow, broken and huge ones) and a fresh SQLite database; it prints the cycle's time, the peak RSS and the event
loop's worst lag. Then the real bot, in the sandbox, polls the same mix while a member asks `/chapter` twenty
times a second: the answer times idle and during the cycle.
The corpus part ingests every file of ../shared/data/feeds as the bot would and counts unhandled exceptions
and unsafe output (raw HTML, script links, mass mentions).

    python bench/feeds_bench.py
    python bench/feeds_bench.py --feeds 200 --skip-corpus
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.directory.service import DirectoryService  # noqa: E402
from bot.feeds import diff  # noqa: E402
from bot.feeds.fetch import TIMEOUT_SECONDS, Fetcher  # noqa: E402
from bot.feeds.service import FeedService  # noqa: E402
from bot.guilds.settings import GuildSettingsService  # noqa: E402
from bot.offline import start_session  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import create_engine, create_session_factory  # noqa: E402
from tests.feeds.corpus import corpus_files, ingest, unsafe  # noqa: E402
from tests.feeds.server import FeedServer, item  # noqa: E402

# Of every 10 feeds: 6 answer 304, 2 have a new post, and one each is slow, broken (500) or huge (20 MB).
MIX = ("304", "304", "304", "304", "304", "304", "new", "new", "slow", "broken")
HUGE_EVERY = 50


class LagProbe:
    """Measures how late the event loop wakes a task that sleeps `tick` seconds at a time."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - before - self.tick)

    def start(self) -> None:
        """Start probing."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop probing."""
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _serve(server: FeedServer, port: int, ready: Any) -> None:
    """The feed server in a process of its own, so its work does not count as the bot's."""

    async def run() -> None:
        await server.start(port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(run())


async def serve_apart(server: FeedServer) -> multiprocessing.process.BaseProcess:
    """Move a configured in-process feed server to a child process on the same port."""
    port = server.port
    await server.stop()
    server._runner = None
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    child = context.Process(target=_serve, args=(server, port, ready), daemon=True)
    child.start()
    if not await asyncio.to_thread(ready.wait, 60):
        raise RuntimeError("the feed server did not start")
    return child


async def subscribe_mix(
    service: FeedService, server: FeedServer, clock: FakeClock, count: int, channels: list[int], guild_id: int = 1
) -> Counter[str]:
    """Subscribe `count` local feeds (learning their posts), then make each behave as its kind says."""
    kinds: Counter[str] = Counter()
    for n in range(count):
        served, url = server.feed(f"f{n}", [item(i, clock.now() - timedelta(hours=i + 1)) for i in range(20)])
        await service.subscribe(guild_id=guild_id, channel_id=channels[n % len(channels)], url=url, actor_id=1)
        kind = "huge" if n % HUGE_EVERY == HUGE_EVERY - 1 else MIX[n % len(MIX)]
        kinds[kind] += 1
        if kind == "new":
            served.items.insert(0, item(100, clock.now()))
        elif kind == "slow":
            server.slow_paths.add(f"/feeds/f{n}")
        elif kind == "broken":
            server.broken_paths.add(f"/feeds/f{n}")
        elif kind == "huge":
            server.huge_paths.add(f"/feeds/f{n}")
    return kinds


async def poll_cycle(count: int, fetch_seconds: float) -> dict[str, float]:
    """Subscribe `count` local feeds, then time one poll cycle over all of them (the feed server apart)."""
    server = FeedServer()
    server.slow_seconds = fetch_seconds * 3
    await server.start()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade(engine)
        sessions = create_session_factory(engine)
        clock = FakeClock()
        fetcher = Fetcher(allow_private=True, timeout=fetch_seconds)
        service = FeedService(sessions, clock, fetcher, DirectoryService(sessions), GuildSettingsService(sessions))
        kinds = await subscribe_mix(service, server, clock, count, [1000 + n for n in range(50)])
        child = await serve_apart(server)
        gc.collect()  # as the bot does once started: long-lived objects out of the collector's full passes
        gc.freeze()
        try:
            clock.advance(diff.POLL_INTERVAL + timedelta(seconds=1))
            probe = LagProbe()
            probe.start()
            started = time.perf_counter()
            report = await service.poll_due()
            elapsed = time.perf_counter() - started
            await probe.stop()
        finally:
            child.kill()
            await fetcher.close()
            await engine.dispose()
    return {
        "feeds": report.polled,
        "failed": report.failed,
        "announced": report.announced,
        "seconds": elapsed,
        "worst lag ms": probe.worst * 1000,
        "peak RSS MB": peak_rss_mb(),
        **{f"{kind} feeds": float(n) for kind, n in sorted(kinds.items())},
    }


async def members_during_cycle(count: int, asks: float) -> dict[str, float]:
    """The real bot in the sandbox: `/chapter` asked `asks` times a second, first idle, then while the bot polls
    `count` feeds and delivers what they announce; the bot-side answer times (the sandbox's clock)."""
    server = FeedServer()
    server.slow_seconds = TIMEOUT_SECONDS * 3
    await server.start()
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock()
        settings = load_settings(
            _env_file=None, data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/b.db"
        )
        session = await start_session(settings, clock=clock)
        sandbox, app = session.sandbox, session.bot.app
        channels = [sandbox.create_channel(session.guild_id, f"news-{n}").id for n in range(50)]
        child = None
        try:
            await subscribe_mix(app.feeds, server, clock, count, channels, session.guild_id)
            child = await serve_apart(server)
            await session.bot.dispatcher.idle()

            async def ask(seconds: float) -> list[float]:
                times: list[float] = []
                ends = time.perf_counter() + seconds
                while time.perf_counter() < ends:
                    result = await sandbox.slash(
                        session.guild_id, session.channel_id, session.member_id, "chapter", {"name": "g0v"}
                    )
                    record = result.record
                    if record.answered is not None:
                        times.append((record.answered - record.created) * 1000)
                    await asyncio.sleep(1 / asks)
                return times

            idle = await ask(5.0)
            clock.advance(diff.POLL_INTERVAL + timedelta(seconds=1))
            cycle = asyncio.create_task(app.feeds.poll_due())
            busy: list[float] = []
            while not cycle.done():
                busy += await ask(1.0)
            report = cycle.result()
        finally:
            if child is not None:
                child.kill()
            await session.stop()
    return {
        "feeds polled": report.polled,
        "announced": report.announced,
        "/chapter asked idle": len(idle),
        "idle p50 ms": statistics.median(idle),
        "idle p99 ms": percentile(idle, 99),
        "/chapter asked in the cycle": len(busy),
        "cycle p50 ms": statistics.median(busy),
        "cycle p99 ms": percentile(busy, 99),
        "cycle worst ms": max(busy),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def corpus() -> dict[str, float]:
    """Ingest every corpus file; count exceptions and unsafe posts."""
    files = corpus_files()
    exceptions = posts = problems = 0
    started = time.perf_counter()
    for path in files:
        try:
            rendered = ingest(path)
        except Exception as exc:  # the figure this benchmark reports
            exceptions += 1
            print(f"  {path.relative_to(path.parents[2])}: {exc!r}", file=sys.stderr)
            continue
        posts += len(rendered)
        for post in rendered:
            found = unsafe(post)
            if found:
                problems += 1
                print(f"  {path.name}: {found}", file=sys.stderr)
    return {
        "files": len(files),
        "posts rendered": posts,
        "unhandled exceptions": exceptions,
        "unsafe posts": problems,
        "seconds": time.perf_counter() - started,
    }


def table(title: str, rows: dict[str, float]) -> None:
    """Print one table."""
    print(f"\n{title}")
    width = max(len(k) for k in rows)
    for name, value in rows.items():
        shown = f"{value:.3f}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"
        print(f"  {name:<{width}}  {shown:>10}")


def main() -> None:
    """Run the benchmarks and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument(
        "--fetch-seconds", type=float, default=5.0, help="fetch timeout in seconds (slow feeds hang 3x)"
    )
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-members", action="store_true", help="skip /chapter asked during a cycle")
    parser.add_argument("--asks", type=float, default=20.0, help="/chapter asked per second")
    args = parser.parse_args()
    table(f"One poll cycle over {args.feeds} local feeds", asyncio.run(poll_cycle(args.feeds, args.fetch_seconds)))
    if not args.skip_members:
        table(
            f"/chapter while the real bot polls {args.feeds} feeds (sandbox)",
            asyncio.run(members_during_cycle(args.feeds, args.asks)),
        )
    if not args.skip_corpus:
        table("The hostile corpus", corpus())


if __name__ == "__main__":
    main()
