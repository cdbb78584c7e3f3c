"""The optional web server (off by default, `WEB_PORT`): published calendars and a health check.

`/calendars/network.ics` holds the network's summits; `/calendars/GUILD_ID.ics` a server's events with the
network's. Both are what the server's members see in `/summits list`, with an ETag so calendar apps that poll
get a 304 while nothing changed. `/healthz` answers 200 while the database does; `/metrics` gives what `/status`
shows in Prometheus's format.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from bot.app import App
from bot.health import look
from bot.metrics import Gateway, exposition
from bot.summits.events import NETWORK

log = logging.getLogger(__name__)

CALENDAR_TYPE = "text/calendar"


class WebServer:
    """An aiohttp application over the App; `start` listens, `stop` closes."""

    def __init__(self, app: App, gateway: Callable[[], Gateway] | None = None) -> None:
        self._app = app
        self._gateway = gateway
        self._runner: web.AppRunner | None = None
        self.port = 0
        application = web.Application()
        application.router.add_get("/healthz", self._health)
        application.router.add_get("/metrics", self._metrics)
        application.router.add_get("/calendars/{name}.ics", self._calendar)
        self._application = application

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port (0: any free port, then `port` says which)."""
        self._runner = web.AppRunner(self._application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("web server on http://%s:%s", host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        try:
            async with self._app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            return web.json_response({"status": "failing", "database": str(error).splitlines()[0][:200]}, status=503)
        return web.json_response({"status": "ok"})

    async def _metrics(self, request: web.Request) -> web.Response:
        app = self._app
        try:
            health = await look(app.sessions, app.clock, app.scheduler.leadership)
        except Exception as error:
            return web.Response(status=503, text=f"database failing: {str(error).splitlines()[0][:200]}\n")
        body = exposition(health, self._gateway() if self._gateway else None)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _calendar(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        events = self._app.events
        if name == "network":
            chosen = [e for e in events.upcoming(NETWORK) if e.guild_id == NETWORK]
            title = "Code for All network"
        elif name.isdigit() and len(name) < 21:
            chosen = events.upcoming(int(name))
            title = f"Code for All network · {name}"
        else:
            raise web.HTTPNotFound(text="No such calendar.\n")
        body = events.ics(chosen, name=title)
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if tag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(body=body, content_type=CALENDAR_TYPE, charset="utf-8", headers={"ETag": tag})
