"""Rendering: sanitised markdown within Discord's limits, templates, and word filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import UserError
from bot.feeds.html import plain_text
from bot.feeds.parse import Entry
from bot.feeds.render import (
    CONTENT_LIMIT,
    SUMMARY_LIMIT,
    TEMPLATE_LIMIT,
    html_to_markdown,
    parse_words,
    passes,
    render,
    validate_template,
)


def entry(**fields: object) -> Entry:
    values: dict[str, object] = {
        "key": "k",
        "title": "Hackathon in Bucharest",
        "link": "https://blog.example/h",
        "summary_html": "<p>Join <b>us</b></p>",
        "author": "Ana",
        "published": datetime(2026, 2, 3, tzinfo=UTC),
        "categories": ("events",),
        "image": None,
    }
    values.update(fields)
    values["summary_text"] = plain_text(str(values["summary_html"]))
    return Entry(**values)  # type: ignore[arg-type]


def test_html_becomes_discord_markdown_with_nothing_active() -> None:
    html = (
        "<h2>Hi</h2><script>alert(1)</script><style>p{}</style><p>See <a href='javascript:alert(1)'>this</a>"
        " and <a href='https://ok.example/x'>that</a><img src='https://img.example/1.png'><iframe src='x'></iframe>"
        "<!-- secret --></p><p onclick='evil()'>@everyone &lt;script&gt;x&lt;/script&gt; <@123></p>"
    )
    markdown, image = html_to_markdown(html)
    assert markdown.startswith("## Hi")
    assert "alert" not in markdown and "secret" not in markdown and "p{}" not in markdown
    assert "this" in markdown and "javascript" not in markdown.lower()
    assert "[that](https://ok.example/x)" in markdown
    assert image == "https://img.example/1.png" and "img.example" not in markdown
    assert "@everyone" not in markdown and "<script" not in markdown and "<@" not in markdown


def test_the_embed_has_title_link_author_date_chapter_and_image() -> None:
    post = render(
        entry(summary_html="<p>x</p><img src='https://i.example/a.png'>"), locale="de", chapter="Code for Romania"
    )
    embed = post.embed
    assert post.content is None and embed is not None
    assert embed["title"] == "Hackathon in Bucharest" and embed["url"] == "https://blog.example/h"
    assert embed["author"] == {"name": "Ana"}
    assert embed["fields"][0]["value"] == f"<t:{int(datetime(2026, 2, 3, tzinfo=UTC).timestamp())}:f>"
    assert embed["footer"] == {"text": "Code for Romania"} and embed["image"] == {"url": "https://i.example/a.png"}


def test_long_texts_are_cut_with_an_ellipsis() -> None:
    embed = render(entry(title="T" * 400, summary_html="<p>" + "word " * 2000 + "</p>"), locale=None).embed
    assert embed is not None
    assert len(embed["title"]) == 256 and embed["title"].endswith("…")
    assert len(embed["description"]) <= SUMMARY_LIMIT and embed["description"].endswith("…")


def test_a_title_with_everyone_pings_nobody() -> None:
    post = render(entry(title="@everyone @here free pizza"), locale=None)
    assert post.embed is not None and "@everyone" not in post.embed["title"] and "@here" not in post.embed["title"]
    templated = render(entry(title="@everyone"), locale=None, template="{title} {link}")
    assert templated.content is not None and "@everyone" not in templated.content


def test_templates_fill_placeholders_and_stay_within_the_message_limit() -> None:
    template = validate_template("New from {chapter}: **{title}** by {author}\n{link}\n{summary}")
    assert template is not None
    post = render(entry(summary_html="<p>" + "long " * 1000 + "</p>"), locale=None, chapter="g0v", template=template)
    assert post.embed is None and post.content is not None
    assert post.content.startswith("New from g0v: **Hackathon in Bucharest** by Ana\nhttps://blog.example/h")
    assert len(post.content) <= CONTENT_LIMIT


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{title.__class__}", "only use the placeholders"),
        ("{secret}", "only use the placeholders"),
        ("{title!r}", "only use the placeholders"),
        ("{title:>300}", "only use the placeholders"),
        ("{title", "curly bracket"),
        ("x" * (TEMPLATE_LIMIT + 1), "at most 1000 characters"),
    ],
)
def test_bad_templates_are_refused(template: str, words: str) -> None:
    with pytest.raises(UserError, match=words):
        validate_template(template)


def test_filters_match_words_without_case_or_accents() -> None:
    post = entry(title="Hackathon în București", summary_html="<p>Civic <b>tech</b></p>", categories=("Événements",))
    assert passes(post, parse_words("bucuresti"), ())
    assert passes(post, parse_words("evenements"), ())
    assert passes(post, parse_words("TECH, other"), ())
    assert not passes(post, parse_words("hack"), ())  # whole words only
    assert not passes(post, (), parse_words("HACKATHON"))
    assert not passes(post, parse_words("civic"), parse_words("tech"))
    assert passes(post, (), ())


def test_too_many_filter_words_are_refused() -> None:
    with pytest.raises(UserError):
        parse_words(",".join(f"w{i}" for i in range(30)))


def test_overlong_links_are_left_out_rather_than_refused_by_discord() -> None:
    long = "https://blog.example/" + "a" * 2100
    embed = render(entry(link=long, image=long), locale=None).embed
    assert embed is not None and "url" not in embed and "image" not in embed
