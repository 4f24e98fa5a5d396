"""Record how long nbval takes to re-execute each chapter (written to _build/nbval-times.json).

`python tools/execute_notebooks.py --from-nbval _build/nbval-times.json` copies these times into
the status page's data, so the page can show the times of the last full test run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from nnpuzzles.repro import pin_kernel_environment

# Every kernel nbval (and the lab test) starts inherits the book's pinned numerical environment,
# so stored outputs re-execute identically on AVX2 and AVX-512 machines (CONTRIBUTING.md).
pin_kernel_environment()

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
