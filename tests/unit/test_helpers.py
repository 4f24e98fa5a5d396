"""Shared plumbing: seeding, data helpers, progress outside a kernel, style."""

import matplotlib as mpl
import numpy as np
from nnpuzzles import (
    load_digits_scaled,
    progress,
    render_glyphs,
    seed_everything,
    use_book_style,
)
from nnpuzzles.style import COLORS


def test_seed_everything_is_reproducible():
    a = seed_everything(3).normal(size=4)
    b = seed_everything(3).normal(size=4)
    assert np.array_equal(a, b)
    import torch

    seed_everything(3)
    x = torch.randn(3)
    seed_everything(3)
    assert torch.equal(x, torch.randn(3))
    assert torch.get_num_threads() == 1


def test_digits_are_scaled():
    X, y = load_digits_scaled()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert 0.0 <= X.min() and X.max() == 1.0


def test_glyphs_render_distinct_deterministic_patterns():
    glyphs = render_glyphs("ABX", size=16)
    assert glyphs.shape == (3, 256)
    assert set(np.unique(glyphs)) == {-1, 1}
    ink = (glyphs == 1).mean(axis=1)
    assert np.all((ink > 0.1) & (ink < 0.6)), ink
    assert not np.array_equal(glyphs[0], glyphs[1])
    assert np.array_equal(glyphs, render_glyphs("ABX", size=16))


def test_progress_outside_a_kernel_just_iterates():
    assert list(progress(range(4), "counting")) == [0, 1, 2, 3]
    assert list(progress((i for i in range(3)), "a generator")) == [0, 1, 2]


def test_book_style_uses_the_colour_blind_safe_palette():
    use_book_style()
    cycle = [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle == COLORS and cycle[0] == "#0072B2"


def test_a_generated_page_is_written_and_checked(tmp_path, capsys):
    from nnpuzzles.bookfiles import write_generated_page

    page = tmp_path / "book" / "ledger.md"
    page.parent.mkdir()
    assert write_generated_page(page, lambda: "v1\n", "test", ["--check"]) == 1  # missing
    assert write_generated_page(page, lambda: "v1\n", "test", []) == 0 and page.read_text() == "v1\n"
    assert write_generated_page(page, lambda: "v1\n", "test", ["--check"]) == 0
    assert write_generated_page(page, lambda: "v2\n", "test", ["--check"]) == 1  # stale
    assert page.read_text() == "v1\n" and "book/ledger.md is stale" in capsys.readouterr().err
