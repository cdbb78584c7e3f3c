"""A local Discord-compatible server that an unmodified discord.py client connects to."""

from .errors import ApiError, Code
from .ratelimits import Bucket, RateLimits
from .rest import Exchange, Fault
from .results import DriverError, InteractionResult, InteractionTimeout, SentAttachment, SentMessage
from .server import Sandbox, point_discord_at
from .state import Clock, SandboxConfig, SandboxState

__all__ = [
    "ApiError",
    "Bucket",
    "Clock",
    "Code",
    "DriverError",
    "Exchange",
    "Fault",
    "InteractionResult",
    "InteractionTimeout",
    "RateLimits",
    "Sandbox",
    "SandboxConfig",
    "SandboxState",
    "SentAttachment",
    "SentMessage",
    "point_discord_at",
]
