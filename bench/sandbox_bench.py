"""Sandbox benchmark: what checking every exchange against Discord's OpenAPI spec costs, and injected delays.

The end-to-end tests validate every REST exchange of a session at teardown; this measures that cost on the
exchanges of a real session (the bot answering a few commands), cold (schemas compiled on first use) and warm.
It also checks that an injected delay (`Sandbox.inject(..., delay=...)`) slows a request by what was asked.

    python bench/sandbox_bench.py [--rounds 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.offline import SandboxSession, start_session  # noqa: E402
from bot.sandbox import Exchange  # noqa: E402
from tests.openapi_validator import OpenApiValidator, exchange_violations  # noqa: E402

DELAYS = (0.0, 0.05, 0.2, 0.5)


async def session_exchanges(session: SandboxSession) -> list[Exchange]:
    """The REST exchanges of a short session: a chapter card, a search with pages, the chapter list."""
    sandbox, guild, channel, member = session.sandbox, session.guild_id, session.channel_id, session.member_id
    await sandbox.slash(guild, channel, member, "chapter", {"name": "g0v"})
    result = await sandbox.slash(guild, channel, member, "projects", {"words": "data"})
    buttons = [b for b in result.message.buttons if not b.get("disabled")]
    if buttons:
        await sandbox.click(result.message, str(buttons[-1]["custom_id"]), member)
    await sandbox.slash(guild, channel, member, "chapters")
    await sandbox.autocomplete(guild, channel, member, "chapter", focused="name", options={"name": "code"})
    return list(sandbox.exchanges)


async def delays(session: SandboxSession, repeat: int) -> list[tuple[float, list[float]]]:
    """Observed durations of `fetch_guild` under each injected delay."""
    rows = []
    for delay in DELAYS:
        samples = []
        for _ in range(repeat):
            session.sandbox.inject("GET", r"^/guilds/\d+$", None, delay=delay or None)
            started = time.perf_counter()
            await session.bot.fetch_guild(session.guild_id)
            samples.append(time.perf_counter() - started)
        rows.append((delay, samples))
    return rows


def table(header: list[str], rows: list[list[str]]) -> None:
    """Print aligned columns."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()


async def main() -> None:
    """Run both measurements and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000, help="exchanges validated in the warm measurement")
    parser.add_argument("--repeat", type=int, default=5, help="requests per injected delay")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            _env_file=None, data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/bench.db"
        )
        session = await start_session(settings)
        try:
            exchanges = await session_exchanges(session)
            delayed = await delays(session, args.repeat)
        finally:
            await session.stop()

    started = time.perf_counter()
    validator = OpenApiValidator.load()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    problems = exchange_violations(exchanges, validator)
    cold = time.perf_counter() - started
    replay = [exchanges[i % len(exchanges)] for i in range(args.rounds)]
    started = time.perf_counter()
    exchange_violations(replay, validator)
    warm = time.perf_counter() - started
    print(f"OpenAPI validation of a session's {len(exchanges)} exchanges ({len(problems)} violations)")
    table(
        ["pass", "exchanges", "total", "per exchange"],
        [
            ["load the spec", "-", f"{loaded * 1e3:.0f} ms", "-"],
            [
                "cold (schemas compiled on first use)",
                str(len(exchanges)),
                f"{cold * 1e3:.0f} ms",
                f"{cold / len(exchanges) * 1e6:.0f} µs",
            ],
            ["warm", str(len(replay)), f"{warm * 1e3:.0f} ms", f"{warm / len(replay) * 1e6:.0f} µs"],
        ],
    )
    by_route: dict[str, list[float]] = {}
    for exchange in exchanges:
        started = time.perf_counter()
        exchange_violations([exchange], validator)
        by_route.setdefault(f"{exchange.method} {exchange.route_template}", []).append(time.perf_counter() - started)
    table(
        ["route (warm)", "exchanges", "per exchange"],
        [[route, str(len(s)), f"{statistics.mean(s) * 1e6:.0f} µs"] for route, s in sorted(by_route.items())],
    )
    print(f"injected delays on GET /guilds/{{id}} ({args.repeat} requests each)")
    table(
        ["asked", "observed min", "observed median", "observed max"],
        [
            [f"{delay * 1e3:.0f} ms", *(f"{value * 1e3:.1f} ms" for value in (min(s), statistics.median(s), max(s)))]
            for delay, s in delayed
        ],
    )


if __name__ == "__main__":
    asyncio.run(main())
