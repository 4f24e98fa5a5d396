"""The status page is generated from committed data, so it cannot go stale."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_make_status():
    spec = importlib.util.spec_from_file_location("make_status", ROOT / "tools" / "make_status.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_status_page_is_what_make_status_writes():
    make_status = load_make_status()
    assert (ROOT / "book" / "status.md").read_text() == make_status.render(), (
        "book/status.md is stale: run `python tools/make_status.py` (after `make execute` or "
        "`make benchmark`) and commit it"
    )


def test_status_marks_targets():
    make_status = load_make_status()
    page = make_status.render(
        times={"chapters/part9-x/01-fast.ipynb": 12.0,
               "chapters/part9-x/02-slow.ipynb": {"seconds": 95.5, "date": "2026-01-02"}},
        latency={"measured": "2026-01-02", "targets_ms": {"in_kernel_median": 30, "keypress_to_pixels_median": 100},
                 "rows": [{"notebook": "chapters/part9-x/01-fast.ipynb", "explorer": "E | F", "parameter": "p",
                           "in_kernel_ms": {"n": 30, "median": 12.0, "p90": 20.0}, "steps_blitted": 29,
                           "keypress_to_pixels_ms": {"n": 30, "median": 150.0, "p90": 300.0}}]},
    )
    assert "| part9-x | `01-fast` | 12.0 s | — | ✅ |" in page
    assert "| part9-x | `02-slow` | 95.5 s | 2026-01-02 | ❌ over |" in page
    assert "**Whole book: 1.8 min** for 2 notebooks" in page
    assert "| `01-fast` | E \\| F | p | 12.0 (20.0) ✅ | 29/30 | 150.0 (300.0) ❌ over |" in page


def test_status_without_data_says_so():
    page = load_make_status().render(times={}, latency={})
    assert "No execution time recorded yet" in page and "No latency measured yet" in page
