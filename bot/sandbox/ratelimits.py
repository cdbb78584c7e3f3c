"""Discord's REST rate limits: per-route buckets keyed by the top-level resource, and the global limit.

Off by default. When on, every answer of a limited route carries `X-RateLimit-*` headers, and a
request over a limit gets Discord's 429 (`retry_after` in the body, `Retry-After`, `X-RateLimit-Scope`
and, for the global limit, `X-RateLimit-Global`), which discord.py waits out and retries.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

_MAJOR = ("channel_id", "guild_id", "webhook_id")
_NOT_GLOBAL = ("/interactions/", "/webhooks/")


@dataclass(frozen=True)
class Bucket:
    """`limit` requests per `window` seconds on one route, counted per top-level resource."""

    limit: int
    window: float


def default_buckets() -> dict[tuple[str, str], Bucket]:
    """Discord's documented limits: 5 messages per 5 s per channel, 10 crossposts per hour per channel."""
    return {
        ("POST", "/channels/{channel_id}/messages"): Bucket(5, 5.0),
        ("POST", "/channels/{channel_id}/messages/{message_id}/crosspost"): Bucket(10, 3600.0),
    }


@dataclass
class Limited:
    """A refused request: the 429 body and headers."""

    body: dict[str, object]
    headers: dict[str, str]


@dataclass
class _Window:
    reset_at: float
    remaining: int


@dataclass
class RateLimits:
    """The switch, the limits and the counters; `clock` gives Unix seconds (the sandbox's clock)."""

    clock: Callable[[], float]
    enabled: bool = False
    global_limit: int = 50
    global_window: float = 1.0
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=default_buckets)
    _windows: dict[tuple[str, ...], _Window] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every counter."""
        self._windows.clear()

    def check(
        self, method: str, template: str, params: dict[str, str], path: str
    ) -> tuple[Limited | None, dict[str, str]]:
        """Count a request: a refusal (or None) and the headers for the answer."""
        if not self.enabled:
            return None, {}
        now = self.clock()
        if not path.startswith(_NOT_GLOBAL):
            window = self._window(("global",), now, self.global_limit, self.global_window)
            if window.remaining <= 0:
                return _global_refusal(window.reset_at - now), {}
            window.remaining -= 1
        bucket = self.buckets.get((method, template))
        if bucket is None:
            return None, {}
        major = next((params[name] for name in _MAJOR if name in params), "")
        window = self._window((method, template, major), now, bucket.limit, bucket.window)
        name = hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:32]
        if window.remaining <= 0:
            after = window.reset_at - now
            headers = _bucket_headers(bucket, 0, window.reset_at, after, name)
            headers.update({"Retry-After": str(math.ceil(after)), "X-RateLimit-Scope": "user"})
            body = {
                "message": "You are being rate limited.",
                "retry_after": _seconds(after),
                "global": False,
                "code": 0,
            }
            return Limited(body, headers), {}
        window.remaining -= 1
        return None, _bucket_headers(bucket, window.remaining, window.reset_at, window.reset_at - now, name)

    def _window(self, key: tuple[str, ...], now: float, limit: int, length: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now >= window.reset_at:
            window = self._windows[key] = _Window(now + length, limit)
        return window


def _bucket_headers(bucket: Bucket, remaining: int, reset_at: float, after: float, name: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(bucket.limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset_at:.3f}",
        "X-RateLimit-Reset-After": f"{after:.3f}",
        "X-RateLimit-Bucket": name,
    }


def _global_refusal(after: float) -> Limited:
    headers = {"Retry-After": str(math.ceil(after)), "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
    body: dict[str, object] = {
        "message": "You are being rate limited.",
        "retry_after": _seconds(after),
        "global": True,
        "code": 0,
    }
    return Limited(body, headers)


def _seconds(after: float) -> float:
    """Seconds rounded up to the millisecond, so a retry after it always finds the window reset."""
    return math.ceil(after * 1000) / 1000
