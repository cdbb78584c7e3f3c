"""A local Discord-compatible server that an unmodified discord.py client connects to."""

from .errors import ApiError, Code
from .rest import Exchange, Fault
from .results import DriverError, InteractionResult, InteractionTimeout, SentAttachment, SentMessage
from .server import Sandbox, point_discord_at
from .state import SandboxConfig, SandboxState

__all__ = [
    "ApiError",
    "Code",
    "DriverError",
    "Exchange",
    "Fault",
    "InteractionResult",
    "InteractionTimeout",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "SentAttachment",
    "SentMessage",
    "point_discord_at",
]
