"""Summits benchmark: reminder precision, start-up with many pending reminders, a large calendar import.

1. Reminder precision: the real bot on the sandbox, 1,000 members following one event, so 1,000 direct
   reminders fall due at the same instant (on the real clock), plus 200 reminders spread over 20 s in the events
   channel. Each reminder's lateness is its message's time (the snowflake) minus its due time: p50, p99, worst.
2. Start-up: a database holding 500 events and 10,000 pending reminders (500 events x 5 offsets x 4 servers);
   the time from starting the bot to ready, and its RSS.
3. Calendar import: subscribing to a 5,000-occurrence calendar (weekly and single events in several zones)
   served locally: wall time, peak RSS and the event loop's worst lag while it is read and stored.

    python bench/summits_bench.py
    python bench/summits_bench.py --followers 200 --skip-startup
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


async def reminder_precision(followers: int, spread: int, folder: Path) -> list[str]:
    """Rows of the precision table."""
    settings = load_settings(_env_file=None, data_dir=folder / "precision")
    session = await start_session(settings, clock=SystemClock())
    try:
        sandbox, bot = session.sandbox, session.bot
        events_channel = sandbox.create_channel(session.guild_id, "events")
        await bot.guild_settings.update(session.guild_id, events_channel_id=events_channel.id, reminder_offsets="0")
        service = bot.app.events
        now = datetime.now(UTC)
        at_once = now + timedelta(hours=1, seconds=20)  # DM reminders go out an hour before: 20 s from now
        event = await service.add(draft(session.guild_id, "Summit", at_once))
        members = []
        for n in range(followers):
            user = sandbox.create_user(f"member{n}")
            members.append(user.id)
            sandbox.add_member(session.guild_id, user.id)
            dm = sandbox.world.open_dm(sandbox.state.users[user.id])
            await service.follow(session.guild_id, event.id, user.id, dm.id, None)
        spread_start = datetime.now(UTC) + timedelta(seconds=5)
        for n in range(spread):
            await service.add(draft(session.guild_id, f"Meetup {n}", spread_start + timedelta(seconds=20 * n / spread)))
        due_direct = at_once - timedelta(hours=1)
        last_due = max(due_direct, spread_start + timedelta(seconds=20))
        await asyncio.sleep((last_due + timedelta(seconds=10) - datetime.now(UTC)).total_seconds())
        direct = [
            (snowflake_time(m.id) - due_direct).total_seconds()
            for user_id in members
            for m in sandbox.dm_messages(user_id)[:1]
        ]
        starts = {
            e.name: e.starts_at
            for e in service.upcoming(session.guild_id) + service.past(session.guild_id)
            if e.starts_at is not None
        }
        spread_late = []
        for message in sandbox.messages(events_channel.id):
            if message.content.endswith("starts now.") and "Meetup" in message.content:
                name = message.content.split("**")[1]
                spread_late.append((snowflake_time(message.id) - starts[name]).total_seconds())
        rows = []
        for label, late, expected in (
            (f"{followers} DMs due at one instant", direct, followers),
            (f"{spread} channel reminders over 20 s", spread_late, spread),
        ):
            if not late:
                rows.append(f"| {label} | 0 of {expected} sent | | | |")
                continue
            rows.append(
                f"| {label} | {len(late)} of {expected} | {percentile(late, 0.5):.2f} s | "
                f"{percentile(late, 0.99):.2f} s | {max(late):.2f} s |"
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
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--spread", type=int, default=200)
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
            print("\n".join(await reminder_precision(args.followers, args.spread, folder)))
        if not args.skip_startup:
            print("\n| start-up with | time to ready | RSS |\n|---|---|---|")
            print(await startup(folder, args.events, args.guilds))
        if not args.skip_calendar:
            print("\n| calendar import | time | peak RSS | worst loop lag |\n|---|---|---|---|")
            print(await calendar_import(folder, args.occurrences))


if __name__ == "__main__":
    asyncio.run(main())
