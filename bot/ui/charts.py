"""Charts as PNG bytes, on matplotlib's object API: a Figure of its own per chart, no pyplot state, so charts
are drawn safely in worker threads.

Labels are set in DejaVu Sans (matplotlib's own) and fall back glyph by glyph to Noto Sans CJK, which the
`mplfonts` package installs with the bot, so Chinese and Japanese labels draw as text rather than boxes.

matplotlib (with numpy and Pillow, about 30 MiB) is imported on the first chart, in the worker thread that draws
it, not when the bot starts: most processes never draw one.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

COLOURS = ("#2b6cb0", "#38a169", "#718096", "#a0aec0", "#dd6b20", "#805ad5")
LATIN_FONT = "DejaVu Sans"
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_path() -> Path | None:
    """Where the CJK font that comes with the install is, if it is there."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "fonts" / CJK_FONT_FILE
    return path if path.is_file() else None


@functools.cache
def font_files() -> tuple[Path, ...]:
    """The chart's fonts, in fallback order (registered with matplotlib's font list once)."""
    from matplotlib import font_manager

    files = [Path(font_manager.findfont(font_manager.FontProperties(family=LATIN_FONT)))]
    cjk = cjk_font_path()
    if cjk is not None:
        font_manager.fontManager.addfont(str(cjk))
        files.append(cjk)
    return tuple(files)


@functools.cache
def _families() -> tuple[str, ...]:
    from matplotlib.ft2font import FT2Font

    return tuple(FT2Font(str(path)).family_name for path in font_files())


@functools.cache
def _glyphs() -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    glyphs: set[int] = set()
    for path in font_files():
        glyphs.update(FT2Font(str(path)).get_charmap())
    return frozenset(glyphs)


def can_render(texts: Sequence[str]) -> bool:
    """Whether the chart's fonts have a glyph for every character of `texts`."""
    glyphs = _glyphs()
    return all(ord(char) in glyphs for text in texts for char in text if not char.isspace())


def stacked_bar_chart(
    title: str, rows: Mapping[str, Mapping[str, int]], series: Mapping[str, str], axis_label: str
) -> bytes:
    """Horizontal bars, one per row (largest at the top), stacked by series, as PNG bytes.

    `rows` maps a row label to counts by series key; `series` maps series keys to their legend labels.
    """
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font = font_manager.FontProperties(family=list(_families()))
    labels = sorted(rows, key=lambda row: sum(rows[row].values()))
    figure = Figure(figsize=(7.5, 0.5 * max(len(labels), 3) + 1.4), dpi=100)
    axes = figure.add_subplot()
    left = [0] * len(labels)
    for (key, legend), colour in zip(series.items(), COLOURS, strict=False):
        values = [rows[label].get(key, 0) for label in labels]
        if any(values):
            axes.barh(labels, values, left=left, color=colour, label=legend)
            left = [a + b for a, b in zip(left, values, strict=True)]
    for position, total in enumerate(left):
        axes.text(total, position, f" {total}", va="center", fontproperties=font)
    axes.set_title(title, fontproperties=font)
    axes.set_xlabel(axis_label, fontproperties=font)
    for tick in [*axes.get_yticklabels(), *axes.get_xticklabels()]:
        tick.set_fontproperties(font)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="lower right", frameon=False, prop=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
