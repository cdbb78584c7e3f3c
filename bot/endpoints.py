"""Point discord.py at Discord or at a Discord-compatible server."""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

DISCORD_API = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def use_endpoints(api_url: str | None, gateway_url: str | None) -> None:
    """Override the REST base (read on every request) and the gateway URL; None restores Discord's."""
    Route.BASE = api_url or DISCORD_API
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url or DISCORD_GATEWAY)
