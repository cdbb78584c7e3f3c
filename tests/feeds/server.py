"""A local feed server for tests and benchmarks: feeds with ETags, 304s, and every way a site can misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

HUGE_BYTES = 20 * 1024 * 1024


@dataclass
class Item:
    """One entry of a served feed."""

    guid: str
    title: str
    published: datetime
    summary: str = "<p>Hello</p>"
    link: str | None = None
    categories: tuple[str, ...] = ()


@dataclass
class ServedFeed:
    """A feed the server serves, newest item first; tests change `items` between polls."""

    title: str = "Blog"
    items: list[Item] = field(default_factory=list)
    requests: int = 0
    not_modified: int = 0

    def xml(self) -> bytes:
        """The feed as RSS 2.0."""
        parts = [
            f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{escape(self.title)}</title>"
        ]
        for item in self.items:
            categories = "".join(f"<category>{escape(c)}</category>" for c in item.categories)
            link = f"<link>{escape(item.link)}</link>" if item.link else ""
            parts.append(
                f"<item><guid isPermaLink='false'>{escape(item.guid)}</guid><title>{escape(item.title)}</title>{link}"
                f"<pubDate>{format_datetime(item.published)}</pubDate><description>{escape(item.summary)}</description>"
                f"{categories}</item>"
            )
        parts.append("</channel></rss>")
        return "".join(parts).encode()


PAGE = b"""<!doctype html><html><head><title>Site</title>
<link rel="alternate" type="application/rss+xml" title="Posts" href="/feeds/blog">
<link rel="alternate" type="application/atom+xml" href="https://example.org/atom.xml">
<link rel="stylesheet" href="/style.css"></head><body><p>Hi</p></body></html>"""


class FeedServer:
    """Serves `feeds` at /feeds/NAME, and the misbehaving routes, on 127.0.0.1."""

    def __init__(self) -> None:
        self.feeds: dict[str, ServedFeed] = {}
        self.slow_seconds = 60.0
        self.slow_paths: set[str] = set()
        self.huge_paths: set[str] = set()
        self.broken_paths: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def feed(self, name: str, items: list[Item] | None = None) -> tuple[ServedFeed, str]:
        """Add (or replace) a feed; returns it and its URL."""
        served = ServedFeed(title=name, items=items or [])
        self.feeds[name] = served
        return served, self.url(f"/feeds/{name}")

    async def start(self, port: int = 0) -> None:
        """Listen on `port` (0: a free one)."""
        app = web.Application()
        app.add_routes(
            [
                web.get("/feeds/{name}", self._feed),
                web.get("/gzip/{name}", self._gzip),
                web.get("/page", self._page),
                web.get("/status/{code}", self._status),
                web.get("/malformed", self._malformed),
                web.get("/huge", self._huge),
                web.get("/slow", self._slow),
                web.get("/redirect/{name}", self._redirect),
                web.get("/loop/{n}", self._loop),
                web.get("/to-private", self._to_private),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        if request.path in self.slow_paths:
            await asyncio.sleep(self.slow_seconds)
        if request.path in self.huge_paths:
            return await self._huge(request)
        if request.path in self.broken_paths:
            return web.Response(status=500, text="broken")
        served = self.feeds.get(request.match_info["name"])
        if served is None:
            raise web.HTTPNotFound()
        served.requests += 1
        body = served.xml()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            served.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def _gzip(self, request: web.Request) -> web.StreamResponse:
        served = self.feeds[request.match_info["name"]]
        return web.Response(
            body=gzip.compress(served.xml()),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"},
        )

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=PAGE, content_type="text/html")

    async def _status(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def _malformed(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"<rss><channel><title>x</ti", content_type="application/rss+xml")

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * (1024 * 1024 - 9) + b" -->"
        with contextlib.suppress(ConnectionError):  # the client stops reading at its size cap
            for _ in range(HUGE_BYTES // len(chunk)):
                await response.write(chunk)
        return response

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(self.slow_seconds)
        return web.Response(text="late")

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/feeds/{request.match_info['name']}")

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")

    async def _to_private(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://10.0.0.1/feed.xml")


def item(n: int, when: datetime | None = None, **fields: object) -> Item:
    """Item number `n`, published at `when` (default: 2026-01-01 plus n minutes)."""
    published = when or datetime(2026, 1, 1, tzinfo=UTC).replace(minute=n % 60, hour=n // 60 % 24)
    return Item(guid=f"post-{n}", title=f"Post {n}", published=published, link=f"https://blog.example/{n}", **fields)  # type: ignore[arg-type]
