"""nnpuzzles: the companion package of *Four Puzzles of Neural Networks*.

It holds what every chapter shares (the slider explorer, the plotting style, seeding,
progress bars and data helpers); the algorithms a chapter teaches live in the chapter.
"""

from .data import load_digits_scaled, render_glyphs
from .explorer import Choice, Explorer, Slider, in_kernel
from .progress import progress
from .repro import exact_sqrt, generator, rng, seed_everything, seeds, shifted
from .style import COLORS, PALETTE, Table, show_patterns, table, use_book_style

__all__ = [
    "COLORS",
    "PALETTE",
    "Choice",
    "Explorer",
    "Slider",
    "in_kernel",
    "load_digits_scaled",
    "progress",
    "render_glyphs",
    "exact_sqrt",
    "generator",
    "rng",
    "seed_everything",
    "seeds",
    "shifted",
    "show_patterns",
    "Table",
    "table",
    "use_book_style",
]

__version__ = "0.2.1"
