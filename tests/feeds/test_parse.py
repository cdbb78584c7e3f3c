"""Parsing: identities, dates, images, discovery, and what counts as no feed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feeds.parse import NotAFeed, discover, entry_key, normalise_link, parse, parse_sync
from tests.feeds.server import PAGE, ServedFeed, item

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>No id</title><link href="https://Blog.Example:443/a?utm_source=x&amp;p=1#top"/>
<published>2026-02-03T04:05:06Z</published><updated>2026-02-04T00:00:00Z</updated>
<author><name>Ana</name></author><category term="civic"/><summary type="html">&lt;p&gt;Hi&lt;/p&gt;</summary></entry>
<entry><title>Only a title</title></entry>
</feed>"""


def test_identity_is_the_guid_else_the_normalised_link_else_title_and_date() -> None:
    parsed = parse_sync(ATOM, "https://blog.example/feed")
    by_link, by_title = parsed.entries
    assert by_link.key == entry_key(None, "https://blog.example/a?p=1", "", None)
    assert by_title.key == entry_key(None, None, "Only a title", None)
    assert entry_key("g", "https://x/", "t", None) == entry_key("g", "https://y/", "u", "d")
    assert by_link.published == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert by_link.author == "Ana" and by_link.categories == ("civic",)


def test_an_edit_that_only_changes_updated_keeps_the_identity() -> None:
    first = parse_sync(ATOM, "https://blog.example/feed").entries[0]
    edited = parse_sync(
        ATOM.replace(b"2026-02-04", b"2026-03-09").replace(b"&lt;p&gt;Hi", b"&lt;p&gt;Bye"), "https://blog.example/feed"
    )
    assert edited.entries[0].key == first.key


def test_normalised_links() -> None:
    assert normalise_link("HTTPS://Example.org:443/a?utm_medium=m&b=2#x") == "https://example.org/a?b=2"
    assert normalise_link("http://example.org") == "http://example.org/"
    assert normalise_link("http://example.org:8080/") == "http://example.org:8080/"


async def test_parsing_runs_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import bot.feeds.parse as module

    threads: list[threading.Thread] = []
    real = module.parse_sync

    def spy(*args: object) -> object:
        threads.append(threading.current_thread())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "parse_sync", spy)
    served = ServedFeed(items=[item(1)])
    parsed = await parse(served.xml(), "http://127.0.0.1/feed")
    assert parsed.entries[0].title == "Post 1"
    assert threads and threads[0] is not threading.main_thread()


def test_an_html_page_offers_the_feeds_it_links_to() -> None:
    with pytest.raises(NotAFeed) as caught:
        parse_sync(PAGE, "https://site.example/blog/")
    assert caught.value.alternates == ["https://site.example/feeds/blog", "https://example.org/atom.xml"]
    assert "https://site.example/feeds/blog" in str(caught.value)
    assert discover(PAGE, "https://site.example/") == caught.value.alternates


def test_garbage_is_not_a_feed_but_a_broken_feed_with_entries_is_tolerated() -> None:
    with pytest.raises(NotAFeed, match="links to no feed"):
        parse_sync(b"\x00\x01 nothing here", "https://x.example/")
    broken = parse_sync(
        b"<rss version='2.0'><channel><item><title>T &bogus; </title></item><item><title>U", "https://x.example/"
    )
    assert [e.title for e in broken.entries][:1] == ["T"] or broken.entries


def test_an_empty_valid_feed_is_a_feed() -> None:
    assert (
        parse_sync(
            b"<?xml version='1.0'?><rss version='2.0'><channel><title>New</title></channel></rss>", "https://x/"
        ).entries
        == ()
    )


def test_images_and_links_are_only_http() -> None:
    rss = b"""<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>T</title>
    <link>javascript:alert(1)</link><media:content url="https://img.example/a.png" medium="image"/></item></channel></rss>"""
    entry = parse_sync(rss, "https://x.example/").entries[0]
    assert entry.link is None and entry.image == "https://img.example/a.png"
