"""The network chart: a real PNG, labelled in the member's language when the font can draw it."""

from __future__ import annotations

import importlib
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from matplotlib.ft2font import FT2Font

from bot.directory.service import Overview
from bot.ui import charts
from bot.ui.charts import can_render

OVERVIEW = Overview(
    chapters=6,
    projects=0,
    summits=0,
    by_region={"Africa": 3, "Asia": 3},
    by_region_tier={"Africa": {"member": 3}, "Asia": {"governing": 2, "member": 1}},
    by_tier={"governing": 2, "member": 4},
    by_status={},
)


def test_latin_text_renders() -> None:
    assert can_render(["Capitole pe regiuni", "Partener de guvernanță", "Región"])


@pytest.mark.parametrize("locale", ["en-US", "ro", "zh-TW", "ja", "pl"])
def test_the_chart_never_draws_missing_glyphs(locale: str) -> None:
    network_chart = importlib.import_module("bot.ui.directory").network_chart
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        png = network_chart(OVERVIEW, locale).png
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000


@pytest.mark.parametrize(("locale", "sample"), [("zh-TW", "各地區分會數"), ("ja", "分")])
def test_cjk_labels_are_drawn_with_the_font_that_comes_with_the_install(locale: str, sample: str) -> None:
    font = charts.cjk_font_path()
    assert font is not None, "the install brings a CJK font (mplfonts)"
    assert all(ord(char) in FT2Font(str(font)).get_charmap() for char in sample)
    network_chart = importlib.import_module("bot.ui.directory").network_chart
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        chart = network_chart(OVERVIEW, locale)
    assert chart.localised
    assert chart.png != network_chart(OVERVIEW, "en-US").png


def test_charts_drawn_in_threads_at_once_are_the_same_as_one_at_a_time() -> None:
    network_chart = importlib.import_module("bot.ui.directory").network_chart
    alone = {locale: network_chart(OVERVIEW, locale).png for locale in ("en-US", "zh-TW")}
    with ThreadPoolExecutor(4) as pool:
        drawn = list(pool.map(lambda i: (i % 2, network_chart(OVERVIEW, ("en-US", "zh-TW")[i % 2]).png), range(16)))
    assert all(png == alone[("en-US", "zh-TW")[which]] for which, png in drawn)


def test_without_a_cjk_font_the_chart_falls_back_to_english(no_cjk_font: None) -> None:
    chart = importlib.import_module("bot.ui.directory").network_chart(OVERVIEW, "zh-TW")
    assert not chart.localised
    assert chart.png == importlib.import_module("bot.ui.directory").network_chart(OVERVIEW, "en-US").png
