"""Fixtures of the JupyterLab end-to-end test: ONE lab server and ONE browser for the module.

Everything in tests/lab is one module on one xdist worker (``--dist loadscope``), so the server
and the browser are started once per run; both are stopped at the end (the server by its PID).
"""

from __future__ import annotations

import shutil

import pytest
from lab_driver import ROOT, LabServer


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    # The server works on a copy of the chapters: running them in the lab must never write the
    # committed notebooks (JupyterLab saves what it runs).
    workdir = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(ROOT / "chapters", workdir / "book" / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = LabServer(workdir / "book", workdir, check_live_frames=True).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lab_browser(browser):
    """The shared Chromium (tests/conftest.py) for the lab module."""
    return browser
