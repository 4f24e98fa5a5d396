"""The book's plotting style: one colour-blind-safe palette, readable fonts, light frames."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

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


class Table:
    """A table of results: HTML in JupyterLab, Colab and the book (numbers right-aligned), text elsewhere.

    ``columns`` are the header cells (a ``"\\n"`` breaks a header over lines); each row has one cell
    per column, already formatted (``mean_sd(...)``, ``f"{x:.3f}"``). The first column names the row.
    A cell that starts with a number (or a sign) is a number: it is right-aligned, as is its header
    when the whole column holds numbers. Everything is escaped: cells are text, never markup.
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> None:
        self.columns = [str(c) for c in columns]
        self.rows = [[str(cell) for cell in row] for row in rows]
        for k, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"rows[{k}] has {len(row)} cells; columns has {len(self.columns)}")
        self.caption = str(caption)

    def _numeric(self) -> list[bool]:
        """Per column: does it hold numbers (every cell a number, or a blank such as "–")?"""
        return [any(_NUMBER.match(row[j]) for row in self.rows)
                and all(_NUMBER.match(row[j]) or row[j] in _BLANKS for row in self.rows)
                for j in range(len(self.columns))]

    def _repr_html_(self) -> str:
        numeric = self._numeric()

        # a table wider than the page column scrolls inside a focusable region (keyboard users too)
        label = html.escape(self.caption or "table of results", quote=True)
        parts = [f'<div class="nnp-table-wrap" role="region" aria-label="{label}" tabindex="0" '
                 'style="overflow-x: auto; max-width: 100%">',
                 '<table class="nnp-table" style="font-size: 0.9em; border-collapse: collapse">']
        if self.caption:
            parts.append(f'<caption style="color: inherit; text-align: left">{html.escape(self.caption)}</caption>')
        parts.append("<thead><tr>")
        for j, name in enumerate(self.columns):
            text = "<br>".join(html.escape(line) for line in name.split("\n"))
            align = "right" if numeric[j] else "left"
            parts.append(f'<th scope="col" style="text-align: {align}; {_CELL}">{text}</th>')
        parts.append("</tr></thead><tbody>")
        for row in self.rows:
            parts.append("<tr>")
            for j, text in enumerate(row):
                align = "right" if _NUMBER.match(text) else "left"
                tag, scope = ("th", ' scope="row"') if j == 0 else ("td", "")
                parts.append(f'<{tag}{scope} style="text-align: {align}; {_CELL}">{html.escape(text)}</{tag}>')
            parts.append("</tr>")
        parts.append("</tbody></table></div>")
        return "".join(parts)

    def __repr__(self) -> str:
        numeric = self._numeric()
        header = [name.split("\n") for name in self.columns]
        depth = max(len(h) for h in header)
        header = [h + [""] * (depth - len(h)) for h in header]
        widths = [max([len(line) for line in header[j]] + [len(row[j]) for row in self.rows])
                  for j in range(len(self.columns))]

        def line(cells, right):
            return " | ".join(c.rjust(w) if r else c.ljust(w)
                              for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

        lines = [self.caption] if self.caption else []
        lines += [line([h[i] for h in header], numeric) for i in range(depth)]
        lines.append("-+-".join("-" * w for w in widths))
        lines += [line(row, [bool(_NUMBER.match(c)) for c in row]) for row in self.rows]
        return "\n".join(lines)


_NUMBER = re.compile(r"^[-+−]?(\d|\.\d)")
_BLANKS = ("", "–", "—", "-", "n/a", "never")
# a cell never breaks inside "0.145 ± 0.001" (headers break only where the chapter put "\n");
# colours are the page's, so the table reads in light and dark mode
_CELL = "white-space: nowrap; padding: 0.15em 0.5em"


def table(columns: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> Table:
    """A :class:`Table` of results; make it a cell's last expression (or ``display`` it)."""
    return Table(columns, rows, caption)
