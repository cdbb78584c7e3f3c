"""Charts as PNG bytes (matplotlib, no display)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def bar_chart(title: str, counts: Mapping[str, int], *, colour: str = "#2b6cb0") -> bytes:
    """A horizontal bar chart of `counts`, largest at the top, as PNG bytes."""
    labels = list(counts)[::-1]
    values = [counts[label] for label in labels]
    figure, axes = plt.subplots(figsize=(7, 0.5 * max(len(labels), 3) + 1), dpi=100)
    try:
        bars = axes.barh(labels, values, color=colour)
        axes.bar_label(bars, padding=3)
        axes.set_title(title)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlabel("chapters")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
