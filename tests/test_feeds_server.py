"""The local feed server behaves as the feed tests rely on."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
import feedparser
import pytest

from tests.feeds_server import Entry, FeedServer, http_date, rss

pytestmark = pytest.mark.asyncio

POSTS = [
    Entry("post-1", "Code for Romania ships a civic tool", "https://example.org/1", "<p>New <b>tool</b></p>"),
    Entry("post-2", "g0v hackathon", "https://example.org/2", categories=("events",)),
]


async def test_a_feed_answers_304_to_a_matching_conditional_get(feeds_server: FeedServer) -> None:
    feeds_server.feed("blog.xml", rss(POSTS))
    async with aiohttp.ClientSession() as http:
        async with http.get(feeds_server.url("blog.xml")) as first:
            assert first.status == 200 and first.content_type == "application/rss+xml"
            etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
            parsed = feedparser.parse(await first.read())
        assert [e.id for e in parsed.entries] == ["post-1", "post-2"] and not parsed.bozo
        async with http.get(feeds_server.url("blog.xml"), headers={"If-None-Match": etag}) as again:
            assert again.status == 304 and await again.read() == b""
        async with http.get(feeds_server.url("blog.xml"), headers={"If-Modified-Since": modified}) as since:
            assert since.status == 304
        older = http_date(dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
        async with http.get(feeds_server.url("blog.xml"), headers={"If-Modified-Since": older}) as stale:
            assert stale.status == 200
        feeds_server.feed("blog.xml", rss([Entry("post-3", "Summit", "https://example.org/3"), *POSTS]))
        async with http.get(feeds_server.url("blog.xml"), headers={"If-None-Match": etag}) as changed:
            assert changed.status == 200 and changed.headers["ETag"] != etag
    assert [seen.headers.get("If-None-Match") for seen in feeds_server.hits("blog.xml")] == [
        None,
        etag,
        None,
        None,
        etag,
    ]


async def test_gzip_broken_error_and_unknown_paths(feeds_server: FeedServer) -> None:
    feeds_server.feed("zipped.xml", rss(POSTS), gzip=True)
    feeds_server.broken("broken.xml")
    feeds_server.error("down.xml")
    feeds_server.html("site", '<link rel="alternate" type="application/rss+xml" href="/blog.xml">')
    async with aiohttp.ClientSession() as http:
        async with http.get(feeds_server.url("zipped.xml")) as zipped:
            assert zipped.headers["Content-Encoding"] == "gzip"
            assert len(feedparser.parse(await zipped.read()).entries) == 2
        async with aiohttp.ClientSession(auto_decompress=False) as raw, raw.get(feeds_server.url("zipped.xml")) as r:
            assert (await r.read())[:2] == b"\x1f\x8b"
        async with http.get(feeds_server.url("broken.xml")) as broken:
            parsed = feedparser.parse(await broken.read())
            assert parsed.bozo and not parsed.entries
        async with http.get(feeds_server.url("down.xml")) as down:
            assert down.status == 500
        async with http.get(feeds_server.url("site")) as site:
            assert site.content_type == "text/html" and "alternate" in await site.text()
        async with http.get(feeds_server.url("nothing")) as missing:
            assert missing.status == 404


async def test_redirect_chains_end_and_loops_do_not(feeds_server: FeedServer) -> None:
    feeds_server.feed("final.xml", rss(POSTS))
    feeds_server.redirect_chain("moved", 3, "final.xml")
    feeds_server.redirect_loop("loop")
    async with aiohttp.ClientSession() as http:
        async with http.get(feeds_server.url("moved")) as moved:
            assert moved.status == 200 and len(moved.history) == 3 and moved.url.path == "/final.xml"
        with pytest.raises(aiohttp.TooManyRedirects):
            await http.get(feeds_server.url("loop"), max_redirects=10)
        async with http.get(feeds_server.url("moved"), allow_redirects=False) as first_hop:
            assert first_hop.status == 302 and first_hop.headers["Location"] == feeds_server.url("moved/hop1")


async def test_slow_and_hanging_feeds_time_out(feeds_server: FeedServer) -> None:
    feeds_server.slow("slow.xml", rss(POSTS), delay=0.5)
    feeds_server.hang("hang.xml")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(asyncio.TimeoutError):
            await http.get(feeds_server.url("slow.xml"), timeout=aiohttp.ClientTimeout(total=0.1))
        async with http.get(feeds_server.url("slow.xml"), timeout=aiohttp.ClientTimeout(total=5)) as slow:
            assert slow.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await http.get(feeds_server.url("hang.xml"), timeout=aiohttp.ClientTimeout(total=0.2))
    assert len(feeds_server.hits("hang.xml")) == 1


async def test_a_huge_body_streams_and_can_be_abandoned(feeds_server: FeedServer) -> None:
    feeds_server.huge("huge.xml")
    feeds_server.huge("declared.xml", 1024 * 1024, declare_length=True)
    cap = 5 * 1024 * 1024
    async with aiohttp.ClientSession() as http:
        async with http.get(feeds_server.url("huge.xml")) as huge:
            assert "Content-Length" not in huge.headers
            read = 0
            async for chunk in huge.content.iter_chunked(64 * 1024):
                read += len(chunk)
                if read > cap:
                    break
            assert read > cap
        async with http.get(feeds_server.url("huge.xml")) as whole:
            assert len(await whole.read()) == 20 * 1024 * 1024
        async with http.get(feeds_server.url("declared.xml")) as declared:
            assert declared.content_length == 1024 * 1024 and len(await declared.read()) == 1024 * 1024


async def test_the_server_stops_with_a_request_still_hanging() -> None:
    server = FeedServer()
    await server.start()
    hanging = server.hang("hang.xml")
    async with aiohttp.ClientSession() as http:
        pending = asyncio.create_task(http.get(server.url("hang.xml")))
        await asyncio.wait_for(hanging.reached.wait(), 5)
        await asyncio.wait_for(server.stop(), 5)
        with pytest.raises((aiohttp.ClientError, asyncio.TimeoutError)):
            response = await asyncio.wait_for(pending, 5)
            response.raise_for_status()
