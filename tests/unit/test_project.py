"""Project-level checks: lint, the Binder environment, the build configuration, the README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# conda-forge names of PyPI packages that differ
CONDA_NAME = {"torch": "pytorch-cpu", "jupyterlab-rise": "jupyterlab_rise"}
BINDER_ONLY = {"python", "pip"}


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[=<>!~\[ ]", line)[0].lower())
    return names


def test_code_is_ruff_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_binder_environment_names_the_same_packages_as_pip():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip = set(), []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
        else:
            conda.add(re.split(r"[=<>!~ ]", dep)[0].lower())
    wanted = {CONDA_NAME.get(n, n) for n in requirement_names(ROOT / "requirements.txt")}
    assert conda - BINDER_ONLY == wanted, (conda - BINDER_ONLY) ^ wanted
    assert "pytorch-cpu" in conda and "pytorch" not in conda, "Binder must get a CPU-only torch"
    assert "-e ./widgets" in pip, "Binder installs the companion package from ./widgets"


def test_torch_is_pinned_to_the_cpu_wheel():
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text().split()
    assert re.search(r"^torch==2\.13\.0$", (ROOT / "constraints.txt").read_text(), re.M)


def test_static_assets_are_local_in_the_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert not config["mathjax_path"].startswith(("http", "//"))
    assert all(not k.startswith(("http", "//")) for k in config["nb_ipywidgets_js"])
    assert "_static" not in config["html_static_path"]
    assert config["nb_mime_priority_overrides"] == [["html", "text/html", 0]]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make book" in readme and "make test" in readme
    assert ci.strip().splitlines()[-1] == "make test"
