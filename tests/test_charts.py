"""The network chart: a real PNG, labelled in the member's language when the font can draw it."""

from __future__ import annotations

import importlib
import warnings

import pytest

from bot.directory.service import Overview
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
        png = network_chart(OVERVIEW, locale)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5_000
