"""Data the book uses: only what ships with installed packages, or synthetic data."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def load_digits_scaled():
    """The 1,797 8×8 scikit-learn digits with pixels scaled to [0, 1]: (X, y)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype(np.float32) / 16.0, digits.target.astype(np.int64)


def render_glyphs(text: str, size: int = 16, font: str = "DejaVu Sans") -> np.ndarray:
    """Render each character of ``text`` as a ``size``×``size`` ±1 pattern (+1 = ink).

    Uses a font that ships with matplotlib, so the result is the same on every machine.
    Returns an array of shape (len(text), size*size).
    """
    patterns = []
    for char in text:
        fig = Figure(figsize=(1, 1), dpi=size * 4)
        canvas = FigureCanvasAgg(fig)
        fig.text(0.5, 0.47, char, ha="center", va="center", fontsize=size * 3.4,
                 family=font, weight="bold")
        canvas.draw()
        gray = np.asarray(canvas.buffer_rgba())[..., 0].astype(float)
        # Average 4×4 blocks down to size×size, then threshold: ink (dark) becomes +1.
        small = gray.reshape(size, 4, size, 4).mean(axis=(1, 3))
        patterns.append(np.where(small < 128, 1, -1).ravel())
    return np.array(patterns, dtype=np.int8)

