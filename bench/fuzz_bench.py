"""Generated hostile inputs by the ten thousand: the cases of tests/e2e/test_generated_inputs_e2e.py, more of them.

Every slash command option, autocomplete, forged page-button id and organiser form field gets values of each
kind (very long, CJK, control characters, zero-width/RTL marks, lone surrogates, mention and markdown
injection, SQL fragments, numbers as text), drawn with a fixed seed. Prints, per area and kind, how many cases
ran and how many logged an incident, pinged someone, went unanswered, or answered with something that is not a
sentence, with the bot's p50/p99 answer time. A bot session runs at most MAX_CASES cases (each settles with a
heartbeat, and discord.py sends at most 110 gateway frames a minute), so the cases are spread over many sessions.

    python bench/fuzz_bench.py [--per-target 30] [--area commands] [--family surrogate]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings, load_settings  # noqa: E402
from bot.offline import start_session  # noqa: E402
from tests.e2e.hostile import AREAS, FAMILIES, Case, ErrorLog, Fuzzer  # noqa: E402
from tests.e2e.test_generated_inputs_e2e import MAX_CASES  # noqa: E402

KINDS = {
    "incidents": "logged at",
    "pings": "the message ",  # "the message can ping @everyone", "the message pings users ..."
    "unanswered": "did not answer",
    "refused by Discord": "Discord refused",
    "not a sentence": "not a sentence",
    "refused as too long": "too long",
}


def row(area: str, family: str, cases: list[Case]) -> list[str]:
    """One line of the table."""
    counts = [sum(any(word in p for p in c.problems) for c in cases) for word in KINDS.values()]
    times = sorted(c.seconds for c in cases) or [0.0]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return [
        area,
        family,
        str(len(cases)),
        *map(str, counts),
        f"{statistics.median(times) * 1e3:.1f}",
        f"{p99 * 1e3:.1f}",
    ]


async def run_family(settings: Settings, area: str, family: str, per_target: int, errors: ErrorLog) -> list[Case]:
    """Every target of an area with `per_target` values of one family, MAX_CASES cases per bot session."""
    cases: list[Case] = []
    while True:
        session = await start_session(settings)
        try:
            fuzzer = Fuzzer(session, errors)
            work = [(t, v) for t in await fuzzer.targets(area) for v in fuzzer.inputs(t, family, per_target)]
            for target, value in work[len(cases) : len(cases) + MAX_CASES]:
                cases.append(await fuzzer.run(target, value))
        finally:
            await session.stop()
        if len(cases) >= len(work):
            return cases


async def main() -> None:
    """Run every area and family, a fresh bot session per MAX_CASES cases, then print the table and failures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-target", type=int, default=30, help="values per target and kind of input")
    parser.add_argument("--area", choices=AREAS, action="append")
    parser.add_argument("--family", choices=FAMILIES, action="append")
    parser.add_argument("--show", type=int, default=20, help="failed cases to print")
    args = parser.parse_args()
    rows, failed = [], []
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            _env_file=None, data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/fuzz.db"
        )
        with ErrorLog() as errors:
            for area in args.area or AREAS:
                for family in args.family or FAMILIES:
                    cases = await run_family(settings, area, family, args.per_target, errors)
                    rows.append(row(area, family, cases))
                    failed.extend(c for c in cases if c.problems)
                    print(f"  {area}/{family}: {len(cases)} cases", file=sys.stderr, flush=True)
    header = ["area", "input", "cases", *KINDS, "p50 ms", "p99 ms"]
    total = sum(int(r[2]) for r in rows)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"{total} generated cases, {len(failed)} with a problem")
    for line in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    for case in failed[: args.show]:
        print("  -", case.describe())


if __name__ == "__main__":
    asyncio.run(main())
