"""The optional web server: a server's calendar and the network's, valid iCalendar with ETags, /healthz and
/metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar
from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.clock import FakeClock
from bot.config import load_settings
from bot.delivery.outbox import Payload, enqueue
from bot.metrics import Gateway
from bot.summits.events import EventDraft, draft_times
from bot.web import WebServer

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 42


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[App]:
    settings = load_settings(_env_file=None, database_url=database_url, data_dir=tmp_path)
    application = App.create(settings, clock=FakeClock(NOW))
    await application.start()
    yield application
    await application.close()


async def test_a_servers_calendar_is_published_with_an_etag(app: App) -> None:
    zone, start, end = draft_times("2027-03-30 09:00", None, "Europe/Warsaw", NOW)
    await app.events.add(EventDraft(GUILD, 1, zone, start, end).with_text("Civic Hack", "Warsaw", "", "Come"))
    server = WebServer(app)
    await server.start("127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/calendars/{GUILD}.ics") as response:
                assert response.status == 200 and response.content_type == "text/calendar"
                body, tag = await response.read(), response.headers["ETag"]
            [event] = Calendar.from_ical(body).walk("VEVENT")
            assert str(event["SUMMARY"]) == "Civic Hack" and event.decoded("DTSTART") == start
            async with client.get(f"{base}/calendars/{GUILD}.ics", headers={"If-None-Match": tag}) as response:
                assert response.status == 304
            async with client.get(f"{base}/calendars/network.ics") as response:
                assert response.status == 200 and Calendar.from_ical(await response.read()).walk("VEVENT") == []
            for path in ("/calendars/../etc.ics", "/calendars/x.ics", "/calendars/1.txt"):
                async with client.get(base + path) as response:
                    assert response.status == 404
            async with client.get(f"{base}/healthz") as response:
                assert response.status == 200 and (await response.json())["status"] == "ok"
    finally:
        await server.stop()


async def test_metrics_report_the_status_in_prometheus_format(app: App) -> None:
    async with app.sessions.begin() as session:
        await enqueue(
            session, kind="test", key="1", guild_id=GUILD, channel_id=7, payload=Payload(content="hi"), due_at=NOW
        )
    assert await app.scheduler.leadership.refresh()  # the only process: it takes the lease at once
    gateway = Gateway(latency_seconds=0.042, shard_ids=(0, 1), shard_count=4, guilds=12)
    server = WebServer(app, lambda: gateway)
    await server.start("127.0.0.1", 0)
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.get(f"http://127.0.0.1:{server.port}/metrics") as response,
        ):
            assert response.status == 200 and response.content_type == "text/plain"
            body = await response.text()
    finally:
        await server.stop()
    values = {s.name: s.value for family in text_string_to_metric_families(body) for s in family.samples}
    assert values["codeforall_outbox_backlog"] == 1
    assert values["codeforall_outbox_oldest_due_timestamp_seconds"] == NOW.timestamp()
    assert values["codeforall_scheduler_leader"] == 1
    assert values["codeforall_gateway_latency_seconds"] == 0.042
    assert (values["codeforall_shard_count"], values["codeforall_shards_here"]) == (4, 2)
    assert values["codeforall_feeds"] == 0 and values["codeforall_database_round_trip_seconds"] > 0
