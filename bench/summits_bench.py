"""Summits benchmark: reminder precision, start-up with many pending reminders, a large calendar import.

1. Reminder precision: the real bot on the sandbox, on the real clock: 1,000 pending reminders falling due over
   a minute (50 events, each with its channel reminder and 19 members' direct reminders), then a burst of 500
   direct reminders and a channel one due at one instant. Each reminder's lateness is its message's time (the
   snowflake) minus its due time: p50, p99, worst.
2. Start-up: a database holding 500 events and 10,000 pending reminders (500 events x 5 offsets x 4 servers);
   the time from starting the bot to ready, and its RSS.
3. Calendar import: subscribing to a 5,000-occurrence calendar (weekly and single events in several zones)
   served locally: wall time, peak RSS and the event loop's worst lag while it is read and stored.

    python bench/summits_bench.py
    python bench/summits_bench.py --pending 200 --burst 100 --skip-startup
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.calendar_bench import build as build_calendar  # noqa: E402
from bench.feeds_bench import LagProbe  # noqa: E402
from bot.app import App  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.offline import start_session  # noqa: E402
from bot.sandbox.state import snowflake_time  # noqa: E402
from bot.summits.events import NETWORK, EventDraft  # noqa: E402
from db.models import Delivery  # noqa: E402


def rss_mib() -> float:
    """This process's resident memory now."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mib() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def draft(guild_id: int, name: str, start: datetime) -> EventDraft:
    """An event of `guild_id` starting at `start`, two hours long."""
    return EventDraft(guild_id, 1, "Europe/Warsaw", start, start + timedelta(hours=2)).with_text(
        name, "Warsaw, Koszyki", "", ""
    )


async def reminder_precision(pending: int, burst: int, folder: Path) -> list[str]:
    """Rows of the precision table: `pending` reminders falling due over a minute, then `burst` at one instant."""
    settings = load_settings(_env_file=None, data_dir=folder / "precision")
    session = await start_session(settings, clock=SystemClock())
    try:
        sandbox, bot = session.sandbox, session.bot
        events_channel = sandbox.create_channel(session.guild_id, "events")
        await bot.guild_settings.update(
            session.guild_id,
            events_channel_id=events_channel.id,
            reminder_offsets="1h",
            welcome_mode=os.environ.get("BENCH_WELCOME", "off"),
        )
        service = bot.app.events
        begin = datetime.now(UTC) + timedelta(hours=1, seconds=100)  # reminders go out an hour before the start
        events = 50
        per_event = max(pending // events - 1, 0)  # each event: its channel reminder and its members' DMs
        burst_start = begin + timedelta(seconds=90)
        due: dict[int, datetime] = {}  # member -> when their direct reminder was due

        async def members(event_id: int, count: int, start: datetime) -> None:
            for _ in range(count):
                user = sandbox.create_user(f"member{len(due)}")
                sandbox.add_member(session.guild_id, user.id)
                dm = sandbox.world.open_dm(sandbox.state.users[user.id])
                await service.follow(session.guild_id, event_id, user.id, dm.id, None)
                due[user.id] = start - timedelta(hours=1)

        starts: dict[str, datetime] = {}
        for n in range(events):
            start = begin + timedelta(seconds=60 * n / events)
            event = await service.add(draft(session.guild_id, f"Meetup {n}", start))
            starts[event.name] = start - timedelta(hours=1)
            await members(event.id, per_event, start)
        summit = await service.add(draft(session.guild_id, "Summit", burst_start))
        starts[summit.name] = burst_start - timedelta(hours=1)
        burst_ids = set(due)
        await members(summit.id, burst, burst_start)
        burst_ids = set(due) - burst_ids
        ready_at = datetime.now(UTC)
        first_due = begin - timedelta(hours=1)
        await asyncio.sleep(
            (burst_start - timedelta(hours=1) + timedelta(seconds=15) - datetime.now(UTC)).total_seconds()
        )
        spread: list[float] = []
        at_once: list[float] = []
        for user_id, when in due.items():
            for message in sandbox.dm_messages(user_id)[:1]:
                late = (snowflake_time(message.id) - when).total_seconds()
                (at_once if user_id in burst_ids else spread).append(late)
        for message in sandbox.messages(events_channel.id):
            if message.content.startswith("Reminder"):
                late = (snowflake_time(message.id) - starts[message.content.split("**")[1]]).total_seconds()
                (at_once if "Summit" in message.content else spread).append(late)
        rows = [f"| set-up done {(first_due - ready_at).total_seconds():.0f} s before the first reminder | | | | |"]
        for label, lateness, expected in (
            (
                f"{pending} reminders due over 60 s (50 events x {per_event} DMs + the channel's)",
                spread,
                events * (per_event + 1),
            ),
            (f"{burst} DMs and a channel reminder due at one instant", at_once, burst + 1),
        ):
            if not lateness:
                rows.append(f"| {label} | 0 of {expected} | | | |")
                continue
            rows.append(
                f"| {label} | {len(lateness)} of {expected} | {percentile(lateness, 0.5):.2f} s | "
                f"{percentile(lateness, 0.99):.2f} s | {max(lateness):.2f} s |"
            )
        return rows
    finally:
        await session.stop()


async def startup(folder: Path, events: int, guilds: int) -> str:
    """One row: time to ready and RSS with `events` events reminded in `guilds` servers at 5 offsets."""
    url = f"sqlite+aiosqlite:///{folder / 'startup.db'}"
    settings = load_settings(_env_file=None, database_url=url, data_dir=folder / "startup")
    app = App.create(settings)
    await app.start()
    for guild in range(1, guilds + 1):
        await app.guild_settings.update(guild, events_channel_id=1000 + guild, reminder_offsets="30d, 7d, 1d, 1h, 0")
    first = datetime.now(UTC) + timedelta(days=31)
    for n in range(events):
        await app.events.add(draft(NETWORK, f"Event {n}", first + timedelta(hours=n)))
    async with app.sessions.begin() as session:
        # The servers are made up: their "new event" posts count as sent, leaving only the reminders pending.
        await session.execute(update(Delivery).where(Delivery.kind == "event-new").values(state="sent"))
        pending = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.state == "pending", Delivery.kind == "event-reminder")
        )
    await app.close()
    before = rss_mib()
    started = time.perf_counter()
    bot = await start_session(settings, clock=SystemClock())
    ready = time.perf_counter() - started
    after = rss_mib()
    await bot.stop()
    return (
        f"| {events} events, {pending:,} pending reminders | {ready:.2f} s | {after:.0f} MiB (+{after - before:.0f}) |"
    )


async def calendar_import(folder: Path, occurrences: int) -> str:
    """One row: subscribing to a large local calendar."""
    body = build_calendar(occurrences)
    application = web.Application()

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/calendar")

    application.router.add_get("/big.ics", serve)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"sqlite+aiosqlite:///{folder / 'calendar.db'}"
    settings = load_settings(_env_file=None, database_url=url, data_dir=folder / "calendar", feeds_allow_private=True)
    app = App.create(settings)
    await app.start()
    probe = LagProbe()
    probe.start()
    peak_before = peak_mib()
    started = time.perf_counter()
    _, changes = await app.calendars.subscribe(7, f"http://127.0.0.1:{port}/big.ics", None, 1)
    took = time.perf_counter() - started
    await probe.stop()
    await app.close()
    await runner.cleanup()
    return (
        f"| {len(body) / 1024 / 1024:.1f} MB, {changes.added:,} events stored | {took:.2f} s | "
        f"{peak_mib():.0f} MiB (was {peak_before:.0f}) | {probe.worst * 1000:.0f} ms |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--guilds", type=int, default=4)
    parser.add_argument("--occurrences", type=int, default=5000)
    parser.add_argument("--skip-precision", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-calendar", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if not args.skip_precision:
            print("\n| reminders | sent | p50 late | p99 late | worst |\n|---|---|---|---|---|")
            print("\n".join(await reminder_precision(args.pending, args.burst, folder)))
        if not args.skip_startup:
            print("\n| start-up with | time to ready | RSS |\n|---|---|---|")
            print(await startup(folder, args.events, args.guilds))
        if not args.skip_calendar:
            print("\n| calendar import | time | peak RSS | worst loop lag |\n|---|---|---|---|")
            print(await calendar_import(folder, args.occurrences))


if __name__ == "__main__":
    asyncio.run(main())
