"""Where the book's files are: the one list of chapter notebooks the tools and tests share, and the
command line of the tools that write a generated page."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def chapter_notebooks(root: str | Path) -> list[Path]:
    """The chapter notebooks under ``root/chapters``, in reading order (checkpoints left out)."""
    return sorted(p for p in (Path(root) / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def write_generated_page(page: Path, render: Callable[[], str], description: str,
                         argv: Sequence[str] | None = None) -> int:
    """The ``main`` of a tool that writes a generated page (``book/ledger.md``, ``book/status.md``).

    Writes ``render()`` to ``page``; with ``--check`` writes nothing and returns 1 if the page is
    missing or differs (a stale page), else 0.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if {page.name} is stale")
    args = parser.parse_args(argv)
    text = render()
    name = f"{page.parent.name}/{page.name}"
    if args.check:
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            print(f"{name} is stale: run `python tools/make_{page.stem}.py`", file=sys.stderr)
            return 1
        return 0
    page.write_text(text, encoding="utf-8")
    print(f"wrote {name}")
    return 0
