"""The surface tools/execute_notebooks.py gives every chapter: the set-up cell (on Colab, with no
companion package, it installs the package; elsewhere it does nothing and prints nothing; checked
offline with the local checkout as the source) and folded plumbing (explorer and figure cells)."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nnpuzzles.bookfiles import chapter_notebooks

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "tools" / "execute_notebooks.py")
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)


@pytest.mark.parametrize("notebook", chapter_notebooks(ROOT), ids=lambda p: p.stem)
def test_every_chapter_opens_with_the_generated_setup_cell(notebook):
    cell = json.loads(notebook.read_text(encoding="utf-8"))["cells"][1]
    assert cell["cell_type"] == "code" and "colab-setup" in cell["metadata"]["tags"]
    assert "".join(cell["source"]) == execute_notebooks.setup_cell_source(), "run tools/execute_notebooks.py"
    assert cell["outputs"] == [], "with the package present the set-up cell prints nothing"


def test_the_install_command_follows_the_config_and_how_to_use_says_it():
    spec = execute_notebooks.install_spec()
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    from nnpuzzles import __version__

    assert spec.startswith("nnpuzzles @ git+") and f"@v{__version__}#subdirectory=widgets" in spec
    assert spec.split("git+")[1].split("@v")[0] in config  # the repository _config.yml names
    assert f'pip install "{spec}"' in (ROOT / "book" / "how-to-use.md").read_text(encoding="utf-8")


def test_with_the_package_present_the_cell_is_silent_and_installs_nothing():
    cell = execute_notebooks.setup_cell_source().replace('"pip", "install"', '"pip", "--version"')
    done = subprocess.run([sys.executable, "-c", cell + "\nprint('done')"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "done\n" and done.stderr == ""


@pytest.mark.slow
def test_in_a_clean_venv_the_cell_installs_the_package_and_the_imports_work(tmp_path):
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    missing = subprocess.run([python, "-c", "import nnpuzzles"], capture_output=True, text=True)
    assert missing.returncode != 0, "the clean venv must not have the package"
    source = tmp_path / "widgets"  # a copy, so pip's build leaves the checkout untouched
    shutil.copytree(ROOT / "widgets", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    cell = execute_notebooks.setup_cell_source(str(source))
    subprocess.run([python, "-c", cell], check=True, timeout=900)
    cells = json.loads(chapter_notebooks(ROOT)[0].read_text(encoding="utf-8"))["cells"]
    first = next("".join(c["source"]) for c in cells if "from nnpuzzles" in "".join(c["source"]))
    imports = "\n".join(ast.get_source_segment(first, node) for node in ast.parse(first).body
                        if isinstance(node, ast.Import | ast.ImportFrom))
    assert "from nnpuzzles" in imports  # the first chapter's imports, the package's included
    done = subprocess.run([python, "-c", "import matplotlib; matplotlib.use('Agg')\n" + imports
                           + "\nprint(nnpuzzles_ok := True)"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr[-2000:]
    again = subprocess.run([python, "-c", cell], capture_output=True, text=True)  # now a no-op
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""


@pytest.mark.parametrize("notebook", chapter_notebooks(ROOT), ids=lambda p: p.stem)
def test_plumbing_is_folded_and_algorithms_stay_open(notebook):
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for index, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if execute_notebooks.is_plumbing(cell) and "show-input" not in tags:
            assert "hide-input" in tags, f"cell {index} builds an explorer or a figure: fold it (hide-input)"
        elif cell.cell_type == "code" and "hide-input" in tags:
            assert "colab-setup" in tags, f"cell {index} is folded but builds no explorer or figure"
