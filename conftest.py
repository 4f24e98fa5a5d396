"""Record how long nbval takes to re-execute each chapter (written to _build/nbval-times.json).

`python tools/execute_notebooks.py --from-nbval _build/nbval-times.json` copies these times into
the status page's data, so the page can show the times of the last full test run.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from nnpuzzles.explorer import STATIC_FRAMES_ENV
from nnpuzzles.repro import pin_kernel_environment

# Every kernel nbval (and the lab test) starts inherits the book's pinned numerical environment,
# so stored outputs re-execute identically on AVX2 and AVX-512 machines (CONTRIBUTING.md).
pin_kernel_environment()
os.environ[STATIC_FRAMES_ENV] = "1"  # nbval executes the chapters as the book does (static frames too)

_times: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb") and report.when == "call":
        _times[path] += report.duration


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput") or not _times:  # only the controller writes
        return
    out = Path(session.config.rootpath) / "_build" / "nbval-times.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({k: round(v, 1) for k, v in sorted(_times.items())}, indent=2) + "\n")


# ---------------------------------------------------------------- test tiers (markers)
# Each test gets the marker of its tier from where it lives, so a subset runs by name:
# `pytest -m unit`, `-m notebooks`, `-m site`, `-m browser`, `-m lab` (`make check`: unit tests
# that are not `slow`, ruff, and the notebook-structure checks in tests/unit/test_notebooks.py).
_TIERS = (  # (path prefix, marker), first match wins
    ("tests/unit/", "unit"),
    ("tests/shifted/", "notebooks"),  # every chapter re-executed with its seeds shifted
    ("tests/site/test_browser.py", "browser"),
    ("tests/site/test_pdf.py", "browser"),  # the print edition, printed by Chromium
    ("tests/site/", "site"),
    ("tests/lab/", "lab"),
    ("chapters/", "notebooks"),  # nbval's re-execution of every chapter
)

#: Unit tests that take more than about 5 s on the 2-core machine (left out of `make check`),
#: by node id without parameters; a test file can also mark its own with @pytest.mark.slow.
SLOW_UNIT_TESTS: set[str] = set()


def pytest_collection_modifyitems(config, items):
    import pytest

    root = Path(config.rootpath)
    for item in items:
        try:
            where = Path(item.path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:  # outside the repository (e.g. a test given by absolute path elsewhere)
            continue
        for prefix, marker in _TIERS:
            if where.startswith(prefix):
                item.add_marker(getattr(pytest.mark, marker))
                break
        if item.nodeid.split("[")[0] in SLOW_UNIT_TESTS:
            item.add_marker(pytest.mark.slow)
