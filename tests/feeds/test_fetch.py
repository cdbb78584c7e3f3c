"""Fetching: conditional GET, gzip, caps, redirects, timeouts and private addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.feeds.fetch import PRIVATE, Fetcher, FetchError, check_url, is_public
from tests.feeds.server import FeedServer, item


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(allow_private=True, timeout=2)
    yield fetcher
    await fetcher.close()


async def test_a_second_fetch_with_the_etag_is_not_modified(feed_server: FeedServer, fetcher: Fetcher) -> None:
    served, url = feed_server.feed("blog", [item(1)])
    first = await fetcher.fetch(url)
    assert b"Post 1" in first.body and first.etag and not first.not_modified
    second = await fetcher.fetch(url, etag=first.etag)
    assert second.not_modified and second.body == b"" and served.not_modified == 1
    served.items.insert(0, item(2))
    third = await fetcher.fetch(url, etag=first.etag)
    assert not third.not_modified and b"Post 2" in third.body


async def test_gzip_bodies_are_decompressed(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.feed("blog", [item(1)])
    fetched = await fetcher.fetch(feed_server.url("/gzip/blog"))
    assert fetched.body.startswith(b"<?xml")


async def test_redirects_are_followed_to_the_final_url(feed_server: FeedServer, fetcher: Fetcher) -> None:
    _, url = feed_server.feed("blog", [item(1)])
    fetched = await fetcher.fetch(feed_server.url("/redirect/blog"))
    assert fetched.url == url and b"Post 1" in fetched.body


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/loop/0", "redirected more than 5 times"),
        ("/status/500", "HTTP status 500"),
        ("/status/404", "HTTP status 404"),
        ("/huge", "larger than 5 MB"),
        ("/slow", "did not answer within 2 seconds"),
    ],
)
async def test_misbehaving_sites_are_one_sentence(
    feed_server: FeedServer, fetcher: Fetcher, path: str, words: str
) -> None:
    with pytest.raises(FetchError, match=words):
        await fetcher.fetch(feed_server.url(path))


async def test_a_closed_port_is_unreachable(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="could not be reached"):
        await fetcher.fetch("http://127.0.0.1:1/feed")


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "example.org/feed", "http://", "javascript:alert(1)", "http://a b/"]
)
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(FetchError, match="not a web address"):
        check_url(url)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("fd00::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_private_addresses_are_refused_by_default(feed_server: FeedServer) -> None:
    _, url = feed_server.feed("blog", [item(1)])
    fetcher = Fetcher(timeout=2)
    try:
        for target in (url, url.replace("127.0.0.1", "localhost"), "http://[::1]:1/x", "http://10.0.0.1/x"):
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(target)
            assert caught.value.message == PRIVATE
    finally:
        await fetcher.close()


async def test_a_redirect_into_a_private_network_is_refused(feed_server: FeedServer) -> None:
    """Allowed to reach the test server, not what it redirects to: the check runs on every hop."""
    fetcher = Fetcher(allow_private=False, timeout=2)
    fetcher._check_host = lambda url: None if "127.0.0.1" in url else Fetcher._check_host(fetcher, url)  # type: ignore[method-assign]
    try:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(feed_server.url("/to-private"))
        assert caught.value.message == PRIVATE
    finally:
        await fetcher.close()
