"""Embeds stay within Discord's limits whatever the data holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.directory.service import ChapterInfo, ProjectInfo
from bot.ui.directory import EMBED_TOTAL, chapter_embed

texts = st.text(min_size=0, max_size=3000)


@settings(max_examples=40, deadline=None)
@given(
    name=st.text(min_size=1, max_size=300),
    description=texts,
    facts=st.lists(texts, max_size=6),
    aliases=st.lists(st.text(min_size=1, max_size=400), max_size=8),
    project_names=st.lists(st.text(min_size=1, max_size=200), max_size=30),
)
def test_a_chapter_card_always_fits(
    name: str, description: str, facts: list[str], aliases: list[str], project_names: list[str]
) -> None:
    chapter = ChapterInfo(
        key="x",
        name=name,
        short_name=None,
        aliases=tuple(aliases),
        names={},
        country="RO",
        city="Cluj",
        region="Europe",
        tier="member",
        founded=2015,
        joined=2017,
        website="https://example.org",
        feed_url=None,
        events_url=None,
        social={"twitter": "https://twitter.com/x"},
        description=description,
        descriptions={},
        facts=tuple(facts),
        people=({"name": "A" * 500, "role": "B" * 500},),
        tags=(),
        latitude=None,
        longitude=None,
        active=True,
    )
    projects = [
        ProjectInfo(f"x/{i}", n, {}, "x", None, {}, (), "active", {}, None) for i, n in enumerate(project_names)
    ]
    embed = chapter_embed(chapter, projects, "en-US")
    assert len(embed) <= EMBED_TOTAL
    assert len(embed.title or "") <= 256
    assert all(len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields)
