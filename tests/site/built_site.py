"""Paths of the built book, shared by the site tests."""

from __future__ import annotations

import os
from pathlib import Path

from nnpuzzles.bookfiles import chapter_notebooks

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))  # override to test another build


def chapter_pages() -> list[Path]:
    """The built page of every chapter notebook."""
    return [HTML / nb.relative_to(ROOT).with_suffix(".html") for nb in chapter_notebooks(ROOT)]
