"""Fan-out benchmark: one entry posted to N channels through the outbox, with Discord's rate limits on.

The real bot runs against the sandbox with its rate limits switched on (50 requests per second globally, 5
messages per 5 s per channel, 429s with `retry_after`). One transaction enqueues the entry for every channel,
as a feed poll does; the table gives the time until the last channel has it, against the floor the limits set
(the global window N/50 times, less the first), and checks each channel got it exactly once.

    python bench/fanout_bench.py [--channels 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.delivery.outbox import Payload, enqueue  # noqa: E402
from bot.offline import start_session  # noqa: E402
from bot.sandbox import Sandbox  # noqa: E402


async def fan_out(channels: int, runs: int) -> list[tuple[float, float, int, int]]:
    """Time `runs` fan-outs to `channels` channels: (seconds, floor, channels with one post, with more)."""
    results = []
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            _env_file=None, data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/fanout.db"
        )
        sandbox = Sandbox(rate_limits=True)
        session = await start_session(settings, sandbox=sandbox)
        try:
            bot, state = session.bot, sandbox.state
            targets = [sandbox.create_channel(session.guild_id, f"c{n}").id for n in range(channels)]
            limits = sandbox.rate_limits
            floor = (math.ceil(channels / limits.global_limit) - 1) * limits.global_window
            for run in range(runs):
                await asyncio.sleep(limits.global_window + 0.1)  # a fresh global window
                async with bot.sessions.begin() as db:
                    for channel_id in targets:
                        await enqueue(
                            db,
                            kind="bench",
                            key=f"entry-{run}",
                            guild_id=session.guild_id,
                            channel_id=channel_id,
                            payload=Payload(content=f"New post {run}"),
                            due_at=bot.app.clock.now(),
                        )
                started = time.perf_counter()
                bot.dispatcher.wake()

                text = f"New post {run}"

                def counts(text: str = text) -> list[int]:
                    return [sum(m.content == text for m in state.channel_messages_of(c)) for c in targets]

                # The sandbox's state is polled: it has no hook for "every channel has a message".
                while sum(1 for n in counts() if n) < channels and time.perf_counter() - started < 120:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                elapsed = time.perf_counter() - started
                await asyncio.sleep(0.5)  # anything doubled would land now
                found = counts()
                results.append((elapsed, floor, sum(n == 1 for n in found), sum(n > 1 for n in found)))
        finally:
            await session.stop()
    return results


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = asyncio.run(fan_out(args.channels, args.runs))
    print(f"\nOne entry to {args.channels} channels, rate limits on")
    print("| run | seconds | floor s | × floor | channels with it once | doubled |")
    print("|---|---|---|---|---|---|")
    for number, (seconds, floor, once, doubled) in enumerate(results, 1):
        ratio = seconds / floor if floor else float("nan")
        print(f"| {number} | {seconds:.2f} | {floor:.2f} | {ratio:.2f} | {once} | {doubled} |")
    median = statistics.median(s for s, *_ in results)
    print(f"median {median:.2f} s")


if __name__ == "__main__":
    main()
