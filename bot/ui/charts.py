"""Charts as PNG bytes (matplotlib, no display)."""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

COLOURS = ("#2b6cb0", "#38a169", "#718096", "#a0aec0", "#dd6b20", "#805ad5")


@functools.cache
def _glyphs() -> frozenset[int]:
    font = FT2Font(font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"])))
    return frozenset(font.get_charmap())


def can_render(texts: Sequence[str]) -> bool:
    """Whether the chart font has a glyph for every character (CJK often has none on a plain server)."""
    glyphs = _glyphs()
    return all(ord(char) in glyphs for text in texts for char in text if not char.isspace())


def stacked_bar_chart(
    title: str, rows: Mapping[str, Mapping[str, int]], series: Mapping[str, str], axis_label: str
) -> bytes:
    """Horizontal bars, one per row (largest at the top), stacked by series, as PNG bytes.

    `rows` maps a row label to counts by series key; `series` maps series keys to their legend labels.
    """
    labels = sorted(rows, key=lambda row: sum(rows[row].values()))
    figure, axes = plt.subplots(figsize=(7.5, 0.5 * max(len(labels), 3) + 1.4), dpi=100)
    try:
        left = [0] * len(labels)
        for (key, legend), colour in zip(series.items(), COLOURS, strict=False):
            values = [rows[label].get(key, 0) for label in labels]
            if any(values):
                axes.barh(labels, values, left=left, color=colour, label=legend)
                left = [a + b for a, b in zip(left, values, strict=True)]
        for position, total in enumerate(left):
            axes.text(total, position, f" {total}", va="center")
        axes.set_title(title)
        axes.set_xlabel(axis_label)
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(loc="lower right", frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
