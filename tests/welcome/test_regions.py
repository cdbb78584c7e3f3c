"""Chapters as menus of at most 25: regions with their counts, a region's chapters page by page."""

from __future__ import annotations

import pytest

from bot.directory.service import ChapterInfo
from bot.errors import UserError
from bot.welcome.regions import ELSEWHERE, PER_MENU, region_code, region_name, region_page, regions


def chapter(key: str, region: str | None, name: str | None = None) -> ChapterInfo:
    return ChapterInfo(
        key=key, name=name or key, short_name=None, aliases=(), names={}, country=None, city=None, region=region,
        tier="member", founded=None, joined=None, website=None, feed_url=None, events_url=None, social={},
        description=None, descriptions={}, facts=(), people=(), tags=(), latitude=None, longitude=None, active=True,
    )  # fmt: skip


def test_regions_come_in_the_directorys_order_with_counts_and_the_unplaced_last() -> None:
    found = [chapter("a", "Europe"), chapter("b", None), chapter("c", "Africa"), chapter("d", "Europe")]
    assert regions(found) == [(region_code("Africa"), 1), (region_code("Europe"), 2), (ELSEWHERE, 1)]
    assert region_name(region_code("Europe")) == "Europe" and region_name(ELSEWHERE) == "Elsewhere"


def test_a_region_pages_by_name_and_a_page_out_of_range_is_the_nearest() -> None:
    found = [chapter(f"k{i}", "Asia", f"Lab {i:02}") for i in reversed(range(30))] + [chapter("x", "Europe")]
    first = region_page(found, region_code("Asia"), 0)
    assert (len(first.chapters), first.page, first.pages) == (PER_MENU, 0, 2)
    assert [c.name for c in first.chapters[:2]] == ["Lab 00", "Lab 01"]
    last = region_page(found, region_code("Asia"), 7)
    assert last.page == 1 and [c.name for c in last.chapters] == [f"Lab {i}" for i in range(25, 30)]
    assert region_page(found, ELSEWHERE, 0).chapters == []


@pytest.mark.parametrize("code", ["9", "7", "", "-1", "é"])
def test_a_forged_region_code_is_a_sentence(code: str) -> None:
    with pytest.raises(UserError, match="no longer valid"):
        region_page([], code, 0)
