"""The book's plotting style: one colour-blind-safe palette, readable fonts, light frames."""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

#: Okabe & Ito (2008) colour-blind-safe palette, in the order the book uses it.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = list(PALETTE.values())

#: Colour maps: sequential (perceptually uniform) and for ±1 patterns.
SEQUENTIAL_CMAP = "viridis"
BINARY_CMAP = "gray_r"

BOOK_RC = {
    "axes.prop_cycle": cycler(color=COLORS),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (7.0, 3.6),
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "image.cmap": SEQUENTIAL_CMAP,
    "lines.linewidth": 2.0,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (call once, at the top of a chapter)."""
    mpl.rcParams.update(BOOK_RC)


def show_patterns(axes, patterns, shape, titles=None, cmap=BINARY_CMAP):
    """Draw flat ±1 (or real) patterns as images on a row of axes; returns the image artists."""
    images = []
    for i, ax in enumerate(axes):
        image = ax.imshow(patterns[i].reshape(shape), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
        images.append(image)
    return images
