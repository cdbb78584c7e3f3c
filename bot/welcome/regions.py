"""The network's chapters as menus of at most 25: the regions that have chapters, then a region's page by page.

A region travels in a button's id as a one-character code: its place in `REGIONS`, or `x` for chapters with
no region.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.directory.records import REGIONS
from bot.directory.service import ChapterInfo
from bot.errors import UserError
from bot.i18n import N_

PER_MENU = 25  # Discord's limit on the options of a select menu
ELSEWHERE = "x"
ELSEWHERE_LABEL = N_("Elsewhere")
UNKNOWN_REGION = N_("This menu is no longer valid: press Pick your chapter again.")


def region_code(region: str | None) -> str:
    """The code of a chapter's region."""
    return str(REGIONS.index(region)) if region in REGIONS else ELSEWHERE


def region_name(code: str) -> str:
    """The region (as the directory writes it) a code stands for; `Elsewhere` for `x`."""
    if code == ELSEWHERE:
        return ELSEWHERE_LABEL
    if not code.isdigit() or int(code) >= len(REGIONS):
        raise UserError(UNKNOWN_REGION)
    return REGIONS[int(code)]


def regions(chapters: Iterable[ChapterInfo]) -> list[tuple[str, int]]:
    """(code, number of chapters) of every region that has chapters, in the directory's order, `x` last."""
    counts = Counter(region_code(chapter.region) for chapter in chapters)
    order = [str(index) for index in range(len(REGIONS))] + [ELSEWHERE]
    return [(code, counts[code]) for code in order if counts[code]]


@dataclass(frozen=True, slots=True)
class ChapterPage:
    """One menu's worth of a region's chapters: `page` counts from 0 of `pages`."""

    chapters: Sequence[ChapterInfo]
    page: int
    pages: int


def region_page(chapters: Iterable[ChapterInfo], code: str, page: int) -> ChapterPage:
    """The chapters of a region by name, the page asked for (kept within the pages there are)."""
    region_name(code)
    found = sorted((c for c in chapters if region_code(c.region) == code), key=lambda c: (c.name.casefold(), c.key))
    pages = max(1, -(-len(found) // PER_MENU))
    page = min(max(page, 0), pages - 1)
    return ChapterPage(found[page * PER_MENU : (page + 1) * PER_MENU], page, pages)
