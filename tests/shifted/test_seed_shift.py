"""The seed switch over the whole book: every chapter's assertions hold with every seed shifted.

Each chapter is re-executed in a fresh kernel with ``NNPUZZLES_SEED_SHIFT=1`` (new data splits,
initialisations, data orders and Monte-Carlo draws everywhere) by the same code as ``make seeds``;
the printed numbers differ from the stored ones, the hidden assertions and ledger claims must
not fail. (``make seeds`` runs shifts 1, 2 and 3; one shift keeps ``make test`` within budget.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nnpuzzles.bookfiles import chapter_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = chapter_notebooks(ROOT)


def load_tool():
    spec = importlib.util.spec_from_file_location("seed_shift", ROOT / "tools" / "seed_shift.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tool_reports_an_assertion_that_only_holds_for_one_draw(tmp_path):
    """A claim about the draw (the first random number) passes unshifted and fails shifted."""
    from nnpuzzles import rng

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"from nnpuzzles import rng\nx = rng(0).random()\nassert x == {rng(0).random()!r}"),
        nbformat.v4.new_code_cell("assert 0 <= rng(1).random() < 1  # a claim: holds for every draw"),
        nbformat.v4.new_code_cell("print('still running')"),
    ]
    path = tmp_path / "draw.ipynb"
    nbformat.write(nb, path)
    result = load_tool().run_one(str(path), 1, out=tmp_path / "out")
    assert [(f["cell"], f["error"].split(":")[0]) for f in result["failures"]] == [(0, "AssertionError")]
    executed = nbformat.read(tmp_path / "out" / "shift-1" / "draw.ipynb", as_version=4)
    assert executed.cells[2].outputs[0]["text"] == "still running\n"  # it goes on past a failure


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_assertions_hold_with_every_seed_shifted(path, tmp_path):
    result = load_tool().run_one(str(path), 1, out=tmp_path)
    assert not result["failures"], "\n".join(
        f"cell {f['cell']} ({'hidden' if f['hidden'] else 'visible'}): {f['error']}" for f in result["failures"])
