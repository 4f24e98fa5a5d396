"""Where the book's files are: the one list of chapter notebooks the tools and tests share."""

from __future__ import annotations

from pathlib import Path


def chapter_notebooks(root: str | Path) -> list[Path]:
    """The chapter notebooks under ``root/chapters``, in reading order (checkpoints left out)."""
    return sorted(p for p in (Path(root) / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
