"""Project-level checks: lint, the Binder environment, the build configuration, the README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_chapter_code_is_formatted_for_the_page_column():
    """Code cells are laid out by `ruff format` at the chapters' line length (E501 above checks
    every line against it); the browser test checks that the page column shows such a line."""
    config = (ROOT / "chapters" / "ruff.toml").read_text(encoding="utf-8")
    assert re.search(r"^line-length = 88$", config, flags=re.M), "book/_static/book.css fits 88"
    result = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", "chapters"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, "run `ruff format chapters`:\n" + result.stdout[-3000:]



@pytest.mark.slow
def test_every_pre_commit_hook_passes_on_the_repository():
    """The hooks a maintainer installs with `pre-commit install` run the venv's tools and pass as committed."""
    hooks = [h for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
             for h in repo["hooks"]]
    assert {h["id"] for h in hooks} >= {"ruff-check", "ledger-page", "status-page"}
    for hook in hooks:
        assert hook["language"] == "system" and hook["entry"].startswith(".venv/bin/"), hook  # nothing downloaded
        command = [str(Path(sys.executable).parent / hook["entry"].split()[0].removeprefix(".venv/bin/")),
                   *hook["entry"].split()[1:]]
        if hook.get("pass_filenames", True):
            command.append(".")
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (hook["id"], result.stdout[-2000:], result.stderr[-2000:])


def pinned_versions(path: Path) -> dict[str, str]:
    """``name -> version`` of the ``name==version`` lines of a constraints file (names lower-case, - for _)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_binder_environment_pins_the_versions_the_book_was_tested_with():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep["pip"]
            conda |= {n.lower(): v for n, _, v in (d.partition("==") for d in dep["pip"] if "==" in d)}
        else:
            name, _, version = dep.partition("=")
            conda[name.lower()] = version
    pins = pinned_versions(ROOT / "constraints.txt")
    wanted = {CONDA_NAME.get(n, n): pins[n.replace("_", "-")] for n in requirement_names(ROOT / "requirements.txt")}
    got = {n: v for n, v in conda.items() if n not in BINDER_ONLY}
    differ = {n: (got.get(n), wanted.get(n)) for n in set(got) | set(wanted) if got.get(n) != wanted.get(n)}
    assert got == wanted, differ
    assert conda["python"] == "3.11"
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
    # the explorers' static HTML, not a dead live widget, in the web book and in the page `make pdf` prints
    assert config["nb_mime_priority_overrides"] == [["html", "text/html", 0], ["singlehtml", "text/html", 0]]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make book" in readme and "make test" in readme
    assert ci.strip().splitlines()[-1] == "make test"


def test_one_edition_everywhere_and_the_licences_stated():
    """The edition number is the package's version, and the book, citation and changelog carry it."""
    import nnpuzzles

    version = re.search(r'^version = "([^"]+)"', (ROOT / "widgets" / "pyproject.toml").read_text(), re.M)[1]
    assert nnpuzzles.__version__ == version
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == version and set(citation["license"]) == {"MIT", "CC-BY-4.0"}
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(r"^## (\S+)", changelog, re.M)[1] == version, "CHANGELOG.md's newest entry is this edition"
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    assert f"Edition {version}" in footer and "CC BY 4.0" in footer and "MIT" in footer
    assert citation["date-released"] in footer
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in (ROOT / "LICENSE-CONTENT.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "CC BY 4.0" in readme and "MIT" in readme and "CITATION.cff" in readme
