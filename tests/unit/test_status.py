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
    assert "| part9-x | `01-fast` | 12.0 s | — | ✓ |" in page
    assert "| part9-x | `02-slow` | 95.5 s | 2026-01-02 | ✗ over |" in page
    assert "**Whole book: 1.8 min** for 2 notebooks" in page
    assert "| `01-fast` | E \\| F | p | 12.0 (20.0) ✓ | 29/30 | 150.0 (300.0) ✗ over |" in page


def test_status_without_data_says_so():
    page = load_make_status().render(times={}, latency={})
    assert "No execution time recorded yet" in page and "No latency measured yet" in page


def test_status_shows_page_load_against_its_targets():
    page = load_make_status().render(times={}, latency={}, load={
        "measured": "2026-01-02", "repeats": 3, "max_html_kb": 500,
        "profiles": {"10 Mbit/s": {"rtt_ms": 40}, "1.6 Mbit/s": {"rtt_ms": 150}},
        "targets_s": {"10 Mbit/s": 1.5, "1.6 Mbit/s": 6.0},
        "rows": [{"chapter": "01-light", "html_kb": 380.4, "10 Mbit/s": {"ready": 1.2, "load": 2.0},
                  "1.6 Mbit/s": {"ready": 6.5, "load": 8.0}},
                 {"chapter": "02-heavy", "html_kb": 2600.0, "10 Mbit/s": {"ready": 5.8, "load": 6.6},
                  "1.6 Mbit/s": {"ready": 5.0, "load": 5.5}}]})
    assert "| 01-light | 380 ✓ | 1.20 ✓ | 2.00 | 6.50 ✗ over | 8.00 |" in page
    assert "| 02-heavy | 2600 ✗ over | 5.80 ✗ over | 6.60 | 5.00 ✓ | 5.50 |" in page
    assert "median of 3 cold loads" in page and "ready ≤ 6 s at 1.6 Mbit/s" in page
    assert "No page load measured yet" in load_make_status().render(times={}, latency={}, load={})
