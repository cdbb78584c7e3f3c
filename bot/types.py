"""Types shared by the Discord-facing code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.client import CodeForAllBot

    Interaction = discord.Interaction[CodeForAllBot]
else:
    Interaction = discord.Interaction
