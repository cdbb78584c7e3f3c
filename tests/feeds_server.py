"""A local HTTP server for feed tests: feeds with ETag/Last-Modified, and every way a feed server misbehaves.

Tests configure routes on a running server (`feed`, `slow`, `broken`, `huge`, `redirect`, `redirect_chain`,
`redirect_loop`, `hang`, `error`, `html`), read `requests` to see what the client sent, and build documents
with `rss`. Routes can be replaced while the server runs (a feed gains an entry: call `feed` again).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip as gzip_codec
import hashlib
import html
import itertools
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

RSS_TYPE = "application/rss+xml"
CHUNK = 64 * 1024


@dataclass
class Route:
    """What one path answers; `reached` is set once a request for it arrives."""

    body: bytes = b""
    status: int = 200
    content_type: str = RSS_TYPE
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False
    location: str | None = None
    hang: bool = False
    stream_size: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reached: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]


class FeedServer:
    """An aiohttp app on 127.0.0.1 and a free port, serving the routes tests configure."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on 127.0.0.1 and a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._serve)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def hits(self, path: str) -> list[Seen]:
        """The requests received for one path."""
        wanted = "/" + path.lstrip("/")
        return [seen for seen in self.requests if seen.path == wanted]

    # --- configuring routes ----------------------------------------------------

    def route(self, path: str, route: Route) -> Route:
        """Serve `route` at `path` (replacing what was there)."""
        self.routes["/" + path.lstrip("/")] = route
        return route

    def feed(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = RSS_TYPE,
        etag: bool = True,
        last_modified: str | None = "Tue, 01 Dec 2026 10:00:00 GMT",
        gzip: bool = False,
    ) -> Route:
        """A well-behaved feed: an ETag from the body, a Last-Modified, and 304 for a matching conditional GET."""
        data = body.encode() if isinstance(body, str) else body
        tag = f'"{hashlib.sha256(data).hexdigest()[:16]}"' if etag else None
        return self.route(
            path, Route(data, content_type=content_type, etag=tag, last_modified=last_modified, gzip=gzip)
        )

    def slow(self, path: str, body: str | bytes, delay: float) -> Route:
        """A feed that answers only after `delay` seconds."""
        route = self.feed(path, body)
        route.delay = delay
        return route

    def broken(self, path: str, body: str = "<rss><channel><title>Half a feed<item><title>x</ti") -> Route:
        """Malformed XML served as a feed."""
        return self.route(path, Route(body.encode()))

    def html(self, path: str, body: str) -> Route:
        """An HTML page (e.g. one whose `<link rel="alternate">` points at feeds)."""
        return self.route(path, Route(body.encode(), content_type="text/html; charset=utf-8"))

    def huge(self, path: str, size: int = 20 * 1024 * 1024, *, declare_length: bool = False) -> Route:
        """A body of `size` bytes, streamed in chunks; without a Content-Length unless `declare_length`."""
        headers = {"Content-Length": str(size)} if declare_length else {}
        return self.route(path, Route(stream_size=size, headers=headers))

    def redirect(self, path: str, to: str, status: int = 301) -> Route:
        """A redirect to another path (or an absolute URL)."""
        location = to if "://" in to else self.url(to)
        return self.route(path, Route(status=status, location=location, content_type="text/plain"))

    def redirect_chain(self, path: str, hops: int, to: str) -> None:
        """`path` redirects through `hops - 1` intermediate paths before reaching `to`."""
        stops = [path] + [f"{path.rstrip('/')}/hop{index}" for index in range(1, hops)] + [to]
        for here, there in itertools.pairwise(stops):
            self.redirect(here, there, 302)

    def redirect_loop(self, path: str) -> None:
        """`path` and a sibling redirect to each other forever."""
        other = f"{path.rstrip('/')}-again"
        self.redirect(path, other, 302)
        self.redirect(other, path, 302)

    def hang(self, path: str) -> Route:
        """A request that is accepted and never answered (until the server stops)."""
        return self.route(path, Route(hang=True))

    def error(self, path: str, status: int = 500) -> Route:
        """A server error (or any status) with a short text body."""
        return self.route(path, Route(b"Internal Server Error", status=status, content_type="text/plain"))

    # --- serving -----------------------------------------------------------------

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Seen(request.method, request.path, request.headers))
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="Not Found")
        route.reached.set()
        if route.hang:
            await self._stopping.wait()
            raise web.HTTPServiceUnavailable()
        if route.delay:
            await asyncio.sleep(route.delay)
        headers = CIMultiDict(route.headers)
        if route.location is not None:
            headers["Location"] = route.location
        if route.etag is not None:
            headers["ETag"] = route.etag
        if route.last_modified is not None:
            headers["Last-Modified"] = route.last_modified
        if route.status == 200 and _not_modified(request, route):
            return web.Response(status=304, headers=headers)
        if route.stream_size is not None:
            return await self._stream(request, route, headers)
        body = route.body
        if route.gzip:
            body = gzip_codec.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = route.content_type
        return web.Response(status=route.status, body=body, headers=headers)

    async def _stream(self, request: web.Request, route: Route, headers: CIMultiDict[str]) -> web.StreamResponse:
        headers["Content-Type"] = route.content_type
        response = web.StreamResponse(status=route.status, headers=headers)
        await response.prepare(request)
        chunk = b"<!-- " + b"x" * (CHUNK - 9) + b" -->\n"
        sent = 0
        size = route.stream_size or 0
        try:
            while sent < size:
                part = chunk[: size - sent]
                await response.write(part)
                sent += len(part)
        except ConnectionError:
            return response
        await response.write_eof()
        return response


def _not_modified(request: web.Request, route: Route) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    match = request.headers.get("If-None-Match")
    if match is not None:
        return route.etag is not None and (match.strip() == "*" or route.etag in _tags(match))
    since = request.headers.get("If-Modified-Since")
    if since is None or route.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _tags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",")}


@dataclass(frozen=True)
class Entry:
    """One item of a generated RSS feed."""

    guid: str
    title: str
    link: str
    summary: str = ""
    published: str = "Tue, 01 Dec 2026 09:00:00 GMT"
    categories: tuple[str, ...] = ()


def rss(entries: list[Entry], *, title: str = "Civic tech blog", link: str = "https://example.org/") -> str:
    """An RSS 2.0 document with the given entries (text is escaped)."""
    items = "".join(
        "<item>"
        f'<guid isPermaLink="false">{html.escape(e.guid)}</guid>'
        f"<title>{html.escape(e.title)}</title>"
        f"<link>{html.escape(e.link)}</link>"
        f"<description>{html.escape(e.summary)}</description>"
        f"<pubDate>{e.published}</pubDate>"
        + "".join(f"<category>{html.escape(c)}</category>" for c in e.categories)
        + "</item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<rss version="2.0"><channel><title>{html.escape(title)}</title><link>{html.escape(link)}</link>'
        f"<description>Posts</description>{items}</channel></rss>"
    )


def http_date(moment: dt.datetime) -> str:
    """An HTTP date (for `last_modified`) from an aware datetime."""
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)
