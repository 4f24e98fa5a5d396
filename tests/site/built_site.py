"""Paths of the built book, shared by the site tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


def chapter_pages() -> list[Path]:
    """The built page of every chapter notebook."""
    return [HTML / nb.relative_to(ROOT).with_suffix(".html")
            for nb in sorted((ROOT / "chapters").rglob("*.ipynb")) if ".ipynb_checkpoints" not in nb.parts]
