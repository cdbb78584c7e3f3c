"""A local Discord-compatible server that an unmodified discord.py client connects to."""

from .errors import ApiError, Code
from .gateway import ShardRules, shard_of
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
    "ShardRules",
    "point_discord_at",
    "shard_of",
]
