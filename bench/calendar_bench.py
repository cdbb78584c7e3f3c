"""Calendar benchmark: a calendar of about 5,000 occurrences in the next 90 days, read and written.

The calendar mixes single events and unbounded weekly series (started up to a year earlier, some with EXDATEs and
moved occurrences) in several zones, with the VTIMEZONEs a calendar server would send. It prints the time to
parse it over the 90-day window, the parse's own peak of Python memory (tracemalloc), the process's peak RSS, the
time to render as many events back to .ics, and the time to refuse an unbounded FREQ=SECONDLY rule.

    python bench/calendar_bench.py
    python bench/calendar_bench.py --occurrences 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.summits.calendar import WINDOW, CalendarError, IcsEvent, parse_calendar, render_calendar  # noqa: E402

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + WINDOW
ZONES = ("Europe/Warsaw", "Europe/Bucharest", "America/Los_Angeles", "Asia/Taipei", "America/Mexico_City", "UTC")
WEEKLY_SHARE = 0.75
"""The share of the window's occurrences that come from weekly series."""


def build(occurrences: int, seed: int = 5545) -> bytes:
    """A calendar with about `occurrences` occurrences in [START, END)."""
    rng = random.Random(seed)
    calendar = icalendar.Calendar.new(name="Benchmark", prodid="-//bench//EN")
    stamp = START - timedelta(days=1)
    week = timedelta(weeks=1)
    series = round(occurrences * WEEKLY_SHARE / (WINDOW / week))
    for n in range(series):
        zone = ZoneInfo(ZONES[n % len(ZONES)])
        first = datetime.combine(START.date() - rng.randrange(52) * week, datetime.min.time(), zone)
        first += timedelta(days=rng.randrange(7), hours=rng.randrange(8, 20))
        inside = first - (first - START) // week * week  # the first occurrence in the window
        event = icalendar.Event.new(
            uid=f"weekly-{n}@bench", stamp=stamp, start=first, end=first + timedelta(hours=2), summary=f"Weekly {n}"
        )
        event.add("RRULE", {"FREQ": "WEEKLY"})
        if n % 10 == 0:
            event.add("EXDATE", inside + week)
        calendar.add_component(event)
        if n % 10 == 5:
            original = inside + 2 * week
            moved = icalendar.Event.new(
                uid=f"weekly-{n}@bench",
                stamp=stamp,
                recurrence_id=original,
                start=original + timedelta(days=1),
                end=original + timedelta(days=1, hours=2),
                summary=f"Weekly {n} (moved)",
            )
            calendar.add_component(moved)
    for n in range(occurrences - round(series * (WINDOW / week))):
        zone = ZoneInfo(ZONES[n % len(ZONES)])
        begins = (START + timedelta(minutes=rng.randrange(int(WINDOW / timedelta(minutes=1))))).astimezone(zone)
        calendar.add_component(
            icalendar.Event.new(
                uid=f"single-{n}@bench",
                stamp=stamp,
                start=begins,
                end=begins + timedelta(minutes=90),
                summary=f"Single {n}",
                description="A talk, a workshop, or a hack night. " * 5,
                location="Online",
            )
        )
    calendar.add_missing_timezones(first_date=START.date() - timedelta(days=400), last_date=END.date())
    return calendar.to_ical()


def read(data: bytes, repeat: int, limit: int) -> dict[str, float]:
    """Time parse_calendar over the window; then its memory peak in one more run."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        events = parse_calendar(data, start=START, end=END, max_events=limit)
        seconds.append(time.perf_counter() - started)
    tracemalloc.start()
    parse_calendar(data, start=START, end=END, max_events=limit)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "calendar MB": len(data) / 1024 / 1024,
        "VEVENTs": float(data.count(b"BEGIN:VEVENT")),
        "occurrences in 90 days": float(len(events)),
        "parse seconds (median)": statistics.median(seconds),
        "parse seconds (worst)": max(seconds),
        "parse peak MB (tracemalloc)": peak / 1024 / 1024,
        "process peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def write(count: int) -> dict[str, float]:
    """Time render_calendar for `count` events in several zones."""
    events = [
        IcsEvent(
            uid=f"event-{n}@bench",
            sequence=n % 3,
            title=f"Summit session {n}",
            description="Talks, workshops; hacking.\nBring a laptop.",
            location="Bucharest, Romania",
            url=f"https://codeforall.org/summit/{n}",
            starts_at=START + timedelta(hours=7 * n),
            ends_at=START + timedelta(hours=7 * n + 1),
            zone=ZONES[n % len(ZONES)],
            cancelled=n % 17 == 0,
            updated_at=START,
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    data = render_calendar(events, name="Benchmark")
    return {"events": float(count), "render seconds": time.perf_counter() - started, "ics MB": len(data) / 1024 / 1024}


def refuse() -> dict[str, float]:
    """Time the refusal of an unbounded FREQ=SECONDLY rule."""
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:flood@bench\r\n"
        b"DTSTART:20260301T000000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    started = time.perf_counter()
    try:
        parse_calendar(data, start=START, end=END)
        refused = 0.0
    except CalendarError:
        refused = 1.0
    return {"refused": refused, "seconds": time.perf_counter() - started}


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
    parser.add_argument("--occurrences", type=int, default=5000, help="occurrences in the 90-day window")
    parser.add_argument("--repeat", type=int, default=3, help="timed parses (the median is shown)")
    args = parser.parse_args()
    data = build(args.occurrences)
    table(
        f"Parse a calendar of about {args.occurrences} occurrences over 90 days",
        read(data, args.repeat, 2 * args.occurrences),
    )
    table(f"Render {args.occurrences} events", write(args.occurrences))
    table("Refuse an unbounded FREQ=SECONDLY rule", refuse())


if __name__ == "__main__":
    main()
