"""Execute chapter notebooks in place, in a fresh kernel, and tidy their metadata.

    python tools/execute_notebooks.py [NOTEBOOK ...]     (default: every chapter)
    python tools/execute_notebooks.py --tidy-only [NOTEBOOK ...]   (metadata only, no execution)
    python tools/execute_notebooks.py --from-nbval _build/nbval-times.json   (times of the last test run)

This is how an author refreshes a chapter's stored outputs after editing it. It
* strips machine- and session-specific metadata (only a generic python3 kernelspec stays);
* gives every cell slide metadata for RISE where the author has not set it: a markdown cell
  opening with a level-1 or level-2 heading starts a slide, one opening with a level-3 heading
  a sub-slide, hidden cells (tags remove-cell / remove-input) are skipped, the rest follow on;
* executes top to bottom with nbclient (cwd = the notebook's folder) and records the wall time
  in book/_data/execution-times.json, which the status page shows;
* makes each chapter's bibliography a bullet list (the citation targets are on References);
* keeps each chapter's set-up cell (the second cell, tag ``colab-setup``) what ``_config.yml``
  and the edition say: on Colab, or in any kernel without the companion package, it installs the
  package at this edition from the book's repository; elsewhere it does nothing and prints nothing;
* folds plumbing in the HTML: a cell that builds an explorer, or that starts by making a figure,
  gets the tag ``hide-input`` (its output stays open; the tag ``show-input`` keeps a cell open).
  Cells that teach an algorithm stay open.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nnpuzzles import bookfiles
from nnpuzzles.explorer import STATIC_FRAMES_ENV
from nnpuzzles.repro import SEED_SHIFT_ENV, pin_kernel_environment, seed_shift

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "book" / "_data" / "execution-times.json"
# The chapters' code is formatted to the page column (chapters/ruff.toml); so is the set-up cell.
CODE_LINE_LENGTH = int(re.search(r"^line-length = (\d+)", (ROOT / "chapters" / "ruff.toml").read_text(encoding="utf-8"),
                                 flags=re.M).group(1))
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# What the kernel reports, less its version (which would tie the notebook to one machine).
LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3"}
HIDDEN_TAGS = {"remove-cell", "remove-input"}
# RISE slideshow settings: long slides scroll, explorers fit on a laptop screen.
RISE = {"scroll": True, "width": "100%", "height": "100%"}


@contextlib.contextmanager
def data_lock():
    """Hold an exclusive lock on book/_data while its files and the generated pages are rewritten."""
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    with open(TIMES.parent / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


SETUP_TAG = "colab-setup"
_FIGURE_START = re.compile(r"(fig\b|fig,|plt\.|ax\b|ax,|axes\b)")


def is_plumbing(cell) -> bool:
    """An explorer's set-up, or a cell that starts by making a figure (folded in the HTML)."""
    if cell.cell_type != "code" or set(cell.metadata.get("tags", [])) & (HIDDEN_TAGS | {SETUP_TAG}):
        return False
    lines = [line.strip() for line in cell.source.splitlines() if line.strip() and not line.strip().startswith("#")]
    return "Explorer(" in cell.source or bool(lines and _FIGURE_START.match(lines[0]))


def fold_plumbing(nb) -> None:
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if is_plumbing(cell) and "show-input" not in tags and "hide-input" not in tags:
            cell.metadata["tags"] = [*tags, "hide-input"]


def install_spec() -> str:
    """What pip installs on Colab: the companion package at this edition, from the repository
    that ``_config.yml`` names (the launch buttons read the same setting)."""
    from nnpuzzles import __version__

    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    return f"nnpuzzles @ git+{url}@v{__version__}#subdirectory=widgets"


def setup_cell_source(spec: str | None = None) -> str:
    """The guarded set-up cell that installs ``spec`` (by default the book's edition), laid out
    as ``ruff format`` leaves it at the chapters' line length."""
    spec = spec or install_spec()
    package = f'BOOK_PACKAGE = "{spec}"'
    if len(package) > CODE_LINE_LENGTH and "@v" in spec:  # split where the edition starts
        head, edition = spec.split("@v", 1)
        package = f'BOOK_PACKAGE = (\n    "{head}"\n    "@v{edition}"\n)'
    return ("# On Colab (or any kernel without the book's package): install it, at this edition.\n"
            "import importlib.util\nimport subprocess\nimport sys\n\n"
            f"{package}\n"
            'if importlib.util.find_spec("nnpuzzles") is None:\n'
            '    pip = [sys.executable, "-m", "pip", "install", "--quiet", BOOK_PACKAGE]\n'
            "    subprocess.run(pip, check=True)")


def ensure_setup_cell(nb) -> None:
    cells = nb.cells
    if len(cells) < 2 or SETUP_TAG not in cells[1].metadata.get("tags", []):
        cells.insert(1, nbformat.v4.new_code_cell(""))
    cell = cells[1]
    if cell.source != setup_cell_source():
        cell.source, cell.outputs, cell.execution_count = setup_cell_source(), [], None
    cell.metadata["tags"] = [SETUP_TAG, "hide-input"]
    cell.metadata["slideshow"] = {"slide_type": "skip"}


def slide_type(cell) -> str:
    tags = set(cell.metadata.get("tags", []))
    if tags & HIDDEN_TAGS:
        return "skip"
    if cell.cell_type == "markdown":
        first = cell.source.lstrip().split("\n", 1)[0]
        if first.startswith(("# ", "## ")):
            return "slide"
        if first.startswith("### "):
            return "subslide"
    return "-"


def tidy(nb) -> None:
    ensure_setup_cell(nb)
    fold_plumbing(nb)
    nb.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
        | {"rise": RISE | dict(nb.metadata.get("rise", {}))}
    )
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{bibliography}" in cell.source and ":list:" not in cell.source:
            # A chapter lists its works as bullets; the citation targets live on book/references.md only,
            # so a work cited by two chapters is not a duplicate citation.
            cell.source = cell.source.replace(":filter: docname in docnames",
                                              ":filter: docname in docnames\n:list: bullet")
        for key in ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime", "lines_to_next_cell"):
            cell.metadata.pop(key, None)
        cell.metadata.setdefault("slideshow", {"slide_type": slide_type(cell)})


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    tidy(nb)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False, store_widget_state=False)
    client.execute()
    seconds = time.perf_counter() - start
    tidy(nb)  # the kernel rewrote language_info
    nbformat.write(nb, path)
    return seconds


def chapter_notebooks() -> list[Path]:
    return bookfiles.chapter_notebooks(ROOT)


def main(paths: list[str]) -> None:
    pin_kernel_environment()  # the kernels it starts inherit the book's numerical environment
    os.environ[STATIC_FRAMES_ENV] = "1"  # executed for the book: explorers pre-render their static frames
    if seed_shift():  # stored outputs are the unshifted run; tools/seed_shift.py runs shifted copies
        sys.exit(f"{SEED_SHIFT_ENV} is set: unset it to refresh stored outputs (make seeds runs shifted copies)")
    if paths[:1] == ["--from-nbval"]:  # times of the last test run, recorded by conftest.py
        times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
        times.update(json.loads(Path(paths[1]).read_text()))
        TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
        sys.path.insert(0, str(ROOT / "tools"))
        import make_status

        make_status.main([])
        return
    if paths[:1] == ["--tidy-only"]:  # metadata only: outputs are left exactly as they are
        for path in [Path(p) for p in paths[1:]] or chapter_notebooks():
            nb = nbformat.read(path, as_version=4)
            tidy(nb)
            nbformat.write(nb, path)
        return
    notebooks = [Path(p).resolve() for p in paths] or chapter_notebooks()
    measured = {}
    for path in notebooks:
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = execute(path)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, once it has exited
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        measured[str(path.relative_to(ROOT))] = {"seconds": round(seconds, 1),
                                                  "date": datetime.date.today().isoformat()}
        print(f"{path.relative_to(ROOT)}: {seconds:.1f} s wall, {cpu:.1f} s CPU in the kernel")
    sys.path.insert(0, str(ROOT / "tools"))
    import make_ledger
    import make_status  # the status page shows these times, the ledger the claims: keep both in step

    with data_lock():  # several authors' runs may finish at once
        times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
        times.update(measured)
        TIMES.parent.mkdir(parents=True, exist_ok=True)
        TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
        make_status.main([])
        make_ledger.main([])


if __name__ == "__main__":
    main(sys.argv[1:])
