"""Store benchmark: members' latency and the event loop's worst lag while an organiser edits, exports and imports.

A large directory (seed, real imports from ../shared, synthetic projects) is served by the real bot through the
local sandbox, in this one process. Members keep asking (autocomplete and /project, two at a time) while an
organiser saves a form, downloads the export and uploads an import. A member interaction counts as expired when
its answer takes longer than Discord's 3 s.

    python bench/store_bench.py --synthetic 100000 --import-size 10000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from array import array
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from directory_bench import REAL_FILES, SHARED, percentiles, synthetic_projects  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bot.config import DEFAULT_SEED_FILE, load_settings  # noqa: E402
from bot.directory.records import columns  # noqa: E402
from bot.directory.service import DirectoryService, ProjectInfo  # noqa: E402
from bot.offline import SandboxSession, start_session  # noqa: E402
from bot.sandbox import InteractionTimeout, Sandbox  # noqa: E402
from bot.sandbox.state import SandboxState  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Chapter, Project  # noqa: E402
from db.repositories import bump_revision  # noqa: E402
from db.session import create_engine, create_session_factory  # noqa: E402

EXPIRES = 3.0  # seconds Discord gives an interaction's first answer


class LagMonitor:
    """The event loop's worst lateness waking a 10 ms sleeper, since the last reset."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - started - 0.01)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def forget_answers(state: SandboxState, user_id: int) -> None:
    """Drop the sandbox's record of what a member was answered, once read. The sandbox shares this process
    with the bot: kept, the records of tens of thousands of interactions would make the cyclic garbage
    collector's full passes (which stop the event loop) seconds long, a cost of the driver and not the bot."""
    state.forget_interactions(
        [key for key, record in state.interactions.items() if record.user_id == user_id and record.done.is_set()]
    )


async def members(s: SandboxSession, prefixes: list[str], stop: asyncio.Event, samples: array[float]) -> int:
    """Two members asking until `stop`; returns how many interactions expired."""
    expired = 0
    rng = random.Random(5)

    async def member() -> None:
        nonlocal expired
        while not stop.is_set():
            prefix = rng.choice(prefixes)
            started = time.perf_counter()
            try:
                if rng.random() < 0.5:
                    await s.sandbox.autocomplete(
                        s.guild_id, s.channel_id, s.member_id, "project", {"name": prefix}, focused="name", timeout=30
                    )
                else:
                    await s.sandbox.slash(
                        s.guild_id, s.channel_id, s.member_id, "project", {"name": prefix}, timeout=30
                    )
            except InteractionTimeout:
                expired += 1
                continue
            took = time.perf_counter() - started
            samples.append(took)
            expired += took > EXPIRES
            if len(samples) % 100 == 0:
                forget_answers(s.sandbox.state, s.member_id)

    await asyncio.gather(member(), member())
    return expired


async def phase(
    label: str, s: SandboxSession, prefixes: list[str], lag: LagMonitor, work: Callable[[], Awaitable[Any]]
) -> list[str]:
    """Run `work` while members ask; one table row."""
    samples = array("d")
    stop = asyncio.Event()
    load = asyncio.create_task(members(s, prefixes, stop, samples))
    await asyncio.sleep(0.5)
    lag.worst = 0.0
    started = time.perf_counter()
    try:
        await work()
    finally:
        took = time.perf_counter() - started
        worst_lag = lag.worst
        stop.set()
        expired = await load
    p50, p99, worst = percentiles(list(samples) or [0.0])
    return [
        label,
        f"{took:.2f}",
        str(len(samples)),
        f"{p50:.1f}",
        f"{p99:.1f}",
        f"{worst:.1f}",
        str(expired),
        f"{worst_lag * 1e3:.1f}",
    ]


async def prepare(database_url: str, synthetic: int) -> tuple[int, int]:
    """The seed and the real imports through the service, then synthetic projects inserted in bulk."""
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    directory = DirectoryService(sessions)
    await directory.load(seed_file=DEFAULT_SEED_FILE)
    for name in REAL_FILES:
        if (SHARED / name).exists():
            await directory.import_file(SHARED / name, actor_name="bench")
    batch = synthetic_projects(synthetic, sorted(directory.chapters))
    async with sessions.begin() as session:
        ids = {key: id_ for key, id_ in await session.execute(select(Chapter.key, Chapter.id))}
        revision = await bump_revision(session, "directory")
        rows = []
        for record in batch.projects:
            values = columns(record)
            rows.append({**values, "chapter_id": ids[values.pop("chapter")], "revision": revision})
        await session.execute(insert(Project), rows)
    counts = len(directory.chapters), len(directory.projects) + len(rows)
    await engine.dispose()
    return counts


def member_prefixes(projects: Iterable[ProjectInfo], count: int = 200) -> list[str]:
    """What members type: the first 2 to 8 characters of names drawn at random."""
    rng = random.Random(3)
    names = sorted(p.name for p in projects)
    return [name[: rng.randint(2, 8)] for name in rng.sample(names, min(count, len(names)))]


def upload(count: int) -> tuple[str, bytes]:
    lines = ["projects:"]
    lines += [
        f"  - {{key: g0v/bench-{i}, chapter: g0v, name: Bench upload {i}, topics: [budget]}}" for i in range(count)
    ]
    return "bench.yaml", "\n".join(lines).encode()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=100_000, help="synthetic projects to add")
    parser.add_argument("--import-size", type=int, default=10_000, help="projects in the uploaded import")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of the idle row")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    started = time.perf_counter()
    chapters, projects = await prepare(url, args.synthetic)
    print(f"directory: {chapters} chapters, {projects} projects (prepared in {time.perf_counter() - started:.0f} s)")
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")

    # The sandbox shares the bot's process here, so the driver keeps little: short logs it never reads, samples
    # as plain numbers. Containers of many objects would lengthen the bot's garbage collections, a cost the
    # bot does not have beside the real Discord.
    s = await start_session(
        load_settings(_env_file=None, database_url=url, data_dir=folder), sandbox=Sandbox(log_kept=100)
    )
    lag = LagMonitor()
    lag.start()
    prefixes = member_prefixes(s.bot.directory.projects.values())
    some_project = next(iter(s.bot.directory.projects))
    organiser = s.organiser_id

    async def idle() -> None:
        await asyncio.sleep(args.idle)

    async def edit() -> None:
        form = await s.sandbox.slash(
            s.guild_id, s.channel_id, organiser, "directory edit-project", {"project": some_project}, timeout=30
        )
        saved = await s.sandbox.submit_modal(
            form, {"description": "Edited during the benchmark"}, organiser, timeout=60
        )
        assert saved.message.content == "Saved.", saved.message.content

    async def export() -> None:
        result = await s.sandbox.slash(s.guild_id, s.channel_id, organiser, "directory export", {}, timeout=120)
        await result.wait_for_messages(1, timeout=120)
        assert result.message.attachments, result.message.content

    async def import_() -> None:
        result = await s.sandbox.slash(
            s.guild_id, s.channel_id, organiser, "directory import", {"file": upload(args.import_size)}, timeout=600
        )
        deadline = time.monotonic() + 600
        while not any("created" in m.content for m in result.messages):
            assert time.monotonic() < deadline, "the import did not answer"
            await asyncio.sleep(0.05)

    rows = []
    try:
        for label, work in (
            ("idle", idle),
            ("organiser saves a form", edit),
            ("organiser exports", export),
            (f"organiser imports {args.import_size:,} projects", import_),
        ):
            try:
                rows.append(await phase(label, s, prefixes, lag, work))
            except Exception as error:  # a failed phase is a row of the table, not the end of the run
                rows.append([label, f"failed: {type(error).__name__}", *["-"] * 6])
            print("row:", " | ".join(rows[-1]), flush=True)
    finally:
        await lag.stop()
        await s.stop()

    print("members: autocomplete and /project, two at a time, end to end through the sandbox in this process")
    header = ["while", "took s", "member n", "p50 ms", "p99 ms", "max ms", "expired", "worst loop lag ms"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    asyncio.run(main())
