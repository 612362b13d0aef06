"""Reading back what a figure says: the strings drawn on it (`texts`) and those of one kind (`labels`)."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .glyphs import Labels


def texts(container: Figure | Axes) -> list[str]:
    """Every string drawn directly on `container` (a Figure or an Axes): its Text objects' and then
    its Labels artists' (titles, captions, cell values, tick labels), for checking what a figure says."""
    return [t.get_text() for t in container.texts] + [
        s for a in container.artists if isinstance(a, Labels) for s in a.texts]


def labels(container: Figure | Axes, name: str) -> list[str]:
    """The strings of `container`'s Labels artists named `name`: "cells" (values in a heatmap's cells),
    "xticks", "yticks" (its column and row labels), "text" (a figure's titles and captions) or
    "colorbar ticks"."""
    return [s for a in container.artists if isinstance(a, Labels) and a.get_label() == name for s in a.texts]
