"""The Sandbox: an aiohttp server speaking Discord's REST API and gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .driver import Driver
from .gateway import Dispatch, Gateway, ShardRules
from .ratelimits import RateLimits
from .rest import API_PREFIX, LOG_KEPT, Exchange, RestApi
from .routes_guilds import GuildRoutes
from .routes_interactions import InteractionRoutes
from .routes_messages import MessageRoutes
from .routes_threads import ThreadRoutes
from .state import Clock, SandboxConfig, SandboxState
from .world import World


class Sandbox(Driver):
    """A local Discord: REST under `/api/v10`, the gateway at `/gateway`, driven from tests."""

    def __init__(
        self,
        state: SandboxState | None = None,
        *,
        interaction_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        nonce_window: float = 5 * 60.0,
        heartbeat_interval: float = 41.25,
        bot_token: str = "sandbox.bot.token",
        clock: Clock | None = None,
        rate_limits: bool = False,
        shards: ShardRules | None = None,
        log_kept: int = LOG_KEPT,
    ) -> None:
        """`clock` (the bot's, or any with `now()`) times the nonce window and rate limits; `rate_limits` switches those on.

        With a fake clock and rate limits on, the test moves the clock: discord.py waits out a 429 in real time.
        `shards` sets Discord's sharding rules (guilds per shard, recommended shards, session starts per day).
        `log_kept` is how many REST exchanges and gateway dispatches the logs keep (a benchmark that shares the
        bot's process and reads neither keeps few, so the logs do not lengthen the bot's garbage collections).
        """
        self.state = state or SandboxState()
        self.config = SandboxConfig(interaction_deadline, token_lifetime, nonce_window, clock)
        self.gateway = Gateway(
            self.state, heartbeat_interval=heartbeat_interval, rules=shards, seconds=self.config.seconds, kept=log_kept
        )
        self.world = World(self.state, self.gateway)
        self.rate_limits = RateLimits(self.config.seconds, enabled=rate_limits)
        self.api = RestApi(self.rate_limits, kept=log_kept)
        self.inject = self.api.inject
        GuildRoutes(self.state, self.world, self.config).register(self.api, lambda: self.gateway_url, self.gateway)
        MessageRoutes(self.state, self.world, self.config).register(self.api)
        ThreadRoutes(self.state, self.world, self.config).register(self.api)
        InteractionRoutes(self.state, self.world, self.config).register(self.api)
        self.bot_token = bot_token
        self.host = "127.0.0.1"
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- lifecycle -----------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving; `port=0` picks a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment)
        self.api.install(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.host = host
        self.port = int(runner.addresses[0][1])
        self.state.base_url = self.url
        self.gateway.url = self.gateway_url

    async def stop(self) -> None:
        """Close every websocket and stop the server."""
        if self._runner is None:
            return
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None

    @property
    def url(self) -> str:
        """`http://host:port`."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The value for `discord.http.Route.BASE`."""
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The value for `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def exchanges(self) -> deque[Exchange]:
        """The REST exchanges so far (the newest `log_kept`)."""
        return self.api.exchanges

    @property
    def dispatches(self) -> deque[Dispatch]:
        """The gateway dispatches so far (the newest `log_kept`), as (event name, frame text)."""
        return self.gateway.dispatched

    # --- fault injection -------------------------------------------------------

    async def drop_gateway(self, resume: bool = True, *, wait: bool = True, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Drop the gateway connection; the client RESUMEs, or re-IDENTIFYs with `resume=False`."""
        await self.gateway.drop(resume=resume, wait=wait, within=timeout)

    def drop_gateway_before(self, event: str) -> None:
        """The connection drops just as Discord sends the next `event` (e.g. "INTERACTION_CREATE"): the client
        never reads it, RESUMEs, and gets it replayed."""
        self.gateway.lose_next(event)

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has processed every gateway event sent so far (e.g. after `create_channel`)."""
        await self.gateway.settle(timeout)

    async def wait_until_connected(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until a client has completed READY or RESUMED."""
        await asyncio.wait_for(self.gateway.connected.wait(), timeout)

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment = self.state.attachments.get(int(request.match_info["attachment_id"]))
        segment = request.raw_path.split("?")[0].rsplit("/", 1)[-1]
        if attachment is None or unquote(segment, errors="surrogatepass") != attachment.filename:
            raise web.HTTPNotFound()
        return web.Response(body=attachment.data, content_type=attachment.content_type or "application/octet-stream")


def point_discord_at(sandbox: Sandbox) -> Callable[[], None]:
    """Point discord.py's REST base and default gateway at the sandbox; returns an undo function."""
    import discord.gateway
    import discord.http
    import yarl

    old_base: Any = discord.http.Route.BASE
    old_gateway: Any = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = sandbox.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sandbox.gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore
