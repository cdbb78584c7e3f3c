"""The optional web server: a server's calendar and the network's, valid iCalendar with ETags, and /healthz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar

from bot.app import App
from bot.clock import FakeClock
from bot.config import load_settings
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
