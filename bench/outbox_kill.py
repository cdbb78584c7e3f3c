"""Kill test of the outbox: SIGKILL the real bot process at random points of 50-channel fan-outs, restart it,
and count what the sandbox received: every fan-out must reach every channel exactly once.

Each round the harness (standing in for a feed poll) enqueues one entry for 50 channels in one transaction,
then kills the bot either after a random delay (often between discovery and the first send) or as the
sandbox stores a random message of the fan-out (between the send and its record). Loopback only, bounded.

With `--standby` (PostgreSQL only) two bot processes run as shards 0 and 1 of 2: each round kills the one that
runs the scheduled work, the other takes the fan-out over, and the killed one comes back as the standby.

    python bench/outbox_kill.py --kills 20            # SQLite in a temporary folder
    python bench/outbox_kill.py --kills 20 --database-url postgresql+asyncpg://postgres@127.0.0.1/test
    python bench/outbox_kill.py --kills 20 --standby --database-url postgresql+asyncpg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.delivery.outbox import Payload, enqueue  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402
from bot.sandbox.state import Message  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.session import create_engine, create_session_factory  # noqa: E402

CLAIM_SECONDS = 2.0
LEADS = "this process now runs the scheduled work"


@dataclass(frozen=True, slots=True)
class KillReport:
    """What a run did and what the channels received."""

    kills: int
    standby: bool
    kills_before_first_send: int
    channels: int
    expected: int
    delivered: int
    lost: int
    doubled: int
    seconds: float


def _bot_env(sandbox: Sandbox, database_url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DISCORD_TOKEN"}}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": sandbox.bot_token,
        "DISCORD_API_URL": sandbox.api_base,
        "DISCORD_GATEWAY_URL": sandbox.gateway_url,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(folder),
        "SEED_FILE": str(ROOT / "data" / "directory.yaml"),
        "DELIVERY_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "DELIVERY_POLL_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }


async def kill_run(
    database_url: str,
    folder: Path,
    *,
    kills: int,
    channels: int = 50,
    seed: int = 0,
    deadline: float = 240.0,
    standby: bool = False,
) -> KillReport:
    """Run `kills` rounds of fan-out and SIGKILL, then let the last processes finish; count the posts.

    `standby`: two processes (shards 0 and 1 of 2) on PostgreSQL, and each kill hits the one that leads.
    """
    rng = random.Random(seed)
    started = time.monotonic()
    engine = create_engine(database_url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    sandbox = Sandbox()
    await sandbox.start()
    owner = sandbox.create_user("owner")
    guild = sandbox.create_guild("Kill test", owner_id=owner.id)
    targets = [sandbox.create_channel(guild.id, f"c{n}").id for n in range(channels)]
    bot_id = sandbox.state.bot_id
    env = _bot_env(sandbox, database_url, folder) | ({"LOG_LEVEL": "INFO", "SHARD_COUNT": "2"} if standby else {})
    shards = (0, 1) if standby else (None,)
    processes: dict[int | None, BotProcess] = {}
    spawned = 0
    early = 0

    def start(shard: int | None) -> BotProcess:
        nonlocal spawned
        spawned += 1
        extra = {"SHARD_IDS": str(shard)} if shard is not None else {}
        return BotProcess(folder / f"bot{spawned}.log", env | extra, folder)

    def revive() -> None:
        for shard in shards:
            if shard not in processes or not processes[shard].alive:
                processes[shard] = start(shard)

    async def leader() -> BotProcess:
        if not standby:
            return processes[None]
        waited = time.monotonic()
        while time.monotonic() - waited < 60:
            for process in processes.values():
                if process.alive and process.logged(LEADS):
                    return process
            await asyncio.sleep(0.05)
        raise TimeoutError("no bot process took the lead within 60 s")

    def bot_posts() -> list[Message]:
        return [m for c in targets for m in sandbox.state.channel_messages_of(c) if m.author_id == bot_id]

    try:
        for round_ in range(kills):
            if time.monotonic() - started > deadline:
                raise TimeoutError(f"the kill run took over {deadline} s")
            revive()
            victim = await leader()
            before = len(bot_posts())
            async with sessions.begin() as session:
                for channel_id in targets:
                    await enqueue(
                        session,
                        kind="kill-test",
                        key=f"entry-{round_}",
                        guild_id=guild.id,
                        channel_id=channel_id,
                        payload=Payload(content=f"entry-{round_}"),
                        due_at=datetime.now(UTC),
                    )
            if rng.random() < 0.5:
                await _kill_at_message(sandbox, victim.process, f"entry-{round_}", rng.randint(1, channels))
            else:
                await asyncio.sleep(rng.uniform(0.0, 3.0))
                victim.process.send_signal(signal.SIGKILL)
                early += len(bot_posts()) == before
            victim.process.wait(timeout=30)
        revive()
        all_sent = asyncio.Event()

        def check() -> None:
            if len(bot_posts()) >= kills * channels:
                all_sent.set()

        sandbox.state.message_listeners.append(lambda _message: check())
        check()
        with contextlib.suppress(TimeoutError):  # what is missing by the deadline counts as lost
            await asyncio.wait_for(all_sent.wait(), timeout=max(deadline - (time.monotonic() - started), 1.0))
        await asyncio.sleep(CLAIM_SECONDS + 1.0)  # a late duplicate would show up by now
    finally:
        for process in processes.values():
            process.stop()
        await sandbox.stop()
        await engine.dispose()
    counts = Counter((m.channel_id, m.content) for m in bot_posts())
    wanted = {(c, f"entry-{r}") for c in targets for r in range(kills)}
    return KillReport(
        kills=kills,
        standby=standby,
        kills_before_first_send=early,
        channels=channels,
        expected=len(wanted),
        delivered=len(set(counts) & wanted),
        lost=len(wanted - set(counts)),
        doubled=sum(n - 1 for n in counts.values() if n > 1),
        seconds=round(time.monotonic() - started, 1),
    )


class BotProcess:
    """`python -m bot run` logging to a file of its own."""

    def __init__(self, log_path: Path, env: dict[str, str], folder: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=folder, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def logged(self, text: str) -> bool:
        """Whether its log holds `text`."""
        return text in self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end in 30 s."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


async def _kill_at_message(sandbox: Sandbox, process: subprocess.Popen[bytes], content: str, nth: int) -> None:
    """SIGKILL the bot as the sandbox stores its `nth` message with this content."""
    killed = asyncio.Event()
    seen = 0

    def on_message(message: Message) -> None:
        nonlocal seen
        if message.author_id == sandbox.state.bot_id and message.content == content:
            seen += 1
            if seen == nth and not killed.is_set():
                process.send_signal(signal.SIGKILL)
                killed.set()

    sandbox.state.message_listeners.append(on_message)
    try:
        await asyncio.wait_for(killed.wait(), timeout=120)
    finally:
        sandbox.state.message_listeners.remove(on_message)


def main() -> int:
    """Run the kill test and print its table; non-zero exit when a post was lost or doubled."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for the whole run")
    parser.add_argument("--standby", action="store_true", help="two processes, killing the leader (PostgreSQL)")
    args = parser.parse_args()
    if args.standby and not args.database_url.startswith("postgresql"):
        parser.error("--standby needs --database-url on PostgreSQL: SQLite serves one bot process")
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'kill.db'}"
        report = asyncio.run(
            kill_run(
                url,
                Path(folder),
                kills=args.kills,
                channels=args.channels,
                seed=args.seed,
                deadline=args.deadline,
                standby=args.standby,
            )
        )
    print(
        "| processes | kills | of them before the first send | channels | expected | delivered | lost | doubled "
        "| seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {'2 (leader killed)' if report.standby else '1'} | {report.kills} | {report.kills_before_first_send} "
        f"| {report.channels} | {report.expected} "
        f"| {report.delivered} | {report.lost} | {report.doubled} | {report.seconds} |"
    )
    return 0 if report.lost == 0 and report.doubled == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
