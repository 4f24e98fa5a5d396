"""Every chapter, live, in a real JupyterLab in a real browser.

For each notebook under chapters/ (globbed: new chapters are covered automatically) the test
opens it in JupyterLab, restarts the kernel and runs all cells, and fails on any error or stderr
output. Then, for every live explorer, it moves the first slider with the keyboard and clicks a
preset, and checks that the figure's pixels changed and that the explorer showed no error.
One more test checks that RISE is installed and renders chapter 1 as reveal.js slides, and one
that jupyterlab-myst renders chapter 1's MyST (a Think! box with its maths, a folded solution).

One lab server and one browser serve the whole module (see conftest.py); under
``-n 2 --dist loadscope`` the module runs on one worker.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from lab_driver import ROOT, NotebookPage, chapter_notebooks, stored_explorers
from playwright.sync_api import TimeoutError as PlaywrightTimeout

NOTEBOOKS = chapter_notebooks()
CHAPTER_1 = ROOT / "chapters" / "part1-remembering" / "01-classical-hopfield.ipynb"
ARROW_PRESSES = 5


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _fail_with_errors(notebook: NotebookPage, what: str, errors: list[str]) -> None:
    if errors:
        shown = "\n\n".join(e[-3000:] for e in errors)
        pytest.fail(f"{notebook.path}: {what}:\n{shown}")


@pytest.mark.skipif(not NOTEBOOKS, reason="no chapter notebook yet")
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_id)
def test_chapter_runs_and_its_explorers_respond(notebook, lab_server, lab_browser):
    page = NotebookPage.open(lab_browser, lab_server, notebook)
    try:
        page.restart_and_run_all()
        _fail_with_errors(page, "error or stderr output after Restart Kernel and Run All", page.cell_errors())
        assert page.unrun_cells() == 0, f"{page.path}: {page.unrun_cells()} code cells did not run"

        explorers = page.explorers()
        expected = [e["title"] for e in stored_explorers(notebook)]
        live_titles = [e.title for e in explorers]
        assert sorted(live_titles) == sorted(expected), (
            f"{page.path}: live explorers {live_titles} differ from the stored ones {expected}"
        )
        for explorer in explorers:
            check_explorer(page, explorer)
        _fail_with_errors(page, "error output after moving the explorers", page.cell_errors())
    finally:
        page.close()


def check_explorer(page: NotebookPage, explorer) -> None:
    name = f"{page.path}: explorer {explorer.title!r}"
    sliders = explorer.sliders()
    if sliders:
        handle = sliders[0]
        label = explorer.slider_label(handle)
        before_src, before = explorer.src(), explorer.pixels()
        key = explorer.step_direction(handle)
        handle.focus()
        for _ in range(ARROW_PRESSES):
            page.page.keyboard.press(key)
        settled = explorer.wait_settled(before_src)
        _fail_with_errors(page, f"explorer {explorer.title!r} error after moving {label!r}", explorer.output_errors())
        assert settled and explorer.pixels() != before, (
            f"{name}: {ARROW_PRESSES} x {key} on slider {label!r} did not change the figure"
        )

    presets = explorer.presets()
    if presets:
        # The first preset that is not already the current state must change the figure.
        changed = []
        for button in presets:
            before_src, before = explorer.src(), explorer.pixels()
            button.click()
            explorer.wait_settled(before_src, timeout=10)  # False when the frame is identical
            _fail_with_errors(page, f"explorer {explorer.title!r} error after preset {button.inner_text()!r}",
                              explorer.output_errors())
            if explorer.pixels() != before:
                changed.append(button.inner_text())
                break
        assert changed, f"{name}: no preset button changed the figure"


def test_rise_is_installed():
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True, text=True, check=True, env={**os.environ, "NO_COLOR": "1"},
    )
    text = listing.stdout + listing.stderr
    lines = [line for line in text.splitlines() if "jupyterlab-rise" in line]
    assert lines, f"the jupyterlab-rise extension is not installed:\n{text}"
    assert "enabled" in lines[0] and "OK" in lines[0], lines[0]


@pytest.mark.skipif(not NOTEBOOKS, reason="no chapter notebook yet")
def test_chapter_one_renders_as_slides(lab_server, lab_browser):
    notebook = CHAPTER_1 if CHAPTER_1.exists() else NOTEBOOKS[0]
    page = NotebookPage.open(lab_browser, lab_server, notebook)
    try:
        assert page.command("RISE:preview")
        slides = page.page.frame_locator("#jp-main-dock-panel iframe").locator(".reveal .slides > section")
        slides.first.wait_for(timeout=90_000)
        assert slides.count() >= 2, f"{page.path}: RISE shows {slides.count()} slide(s)"
        present = page.page.frame_locator("#jp-main-dock-panel iframe").locator(".reveal .slides section.present")
        assert present.count() >= 1, "no slide is shown"
    finally:
        page.close()


#: What jupyterlab-myst makes of the book's MyST in a markdown cell: a directive's rendered node
#: (the plain JupyterLab renderer shows the same directive as a fenced code block instead).
MYST_ADMONITION = ".jp-MarkdownCell aside.myst-admonition"
MYST_EXERCISE = ".jp-MarkdownCell .myst-exercise"
MYST_SOLUTION = ".jp-MarkdownCell details.myst-exercise"  # a solution with :class: dropdown


def myst_directives(notebook: Path) -> dict[str, int]:
    """How many admonitions, exercises and solutions (plain or gated) the markdown cells open."""
    text = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown")
    return {name: len(re.findall(rf"^`{{3,}}\{{{name}\}}", text, re.M))
            for name in ("admonition", "exercise", "solution", "solution-start")}


@pytest.mark.skipif(not NOTEBOOKS, reason="no chapter notebook yet")
def test_chapter_one_renders_its_myst(lab_server, lab_browser):
    """jupyterlab-myst renders the chapter's directives: each admonition as a box (a Think! box
    with rendered maths, not `$...$`), each exercise, and each solution folded until clicked.
    Opens the chapter without running it. (A gated solution's code cells and closing prose are
    cells of their own, which stay unfolded: its ``solution-start`` cell is the dropdown checked
    here, holding only the opening prose; book/how-to-use.md says so.)"""
    notebook = CHAPTER_1 if CHAPTER_1.exists() else NOTEBOOKS[0]
    wanted = myst_directives(notebook)
    assert wanted["admonition"] and wanted["solution"], f"{notebook}: no admonition or plain solution to check"
    page = NotebookPage.open(lab_browser, lab_server, notebook)
    try:
        pg = page.page
        try:
            pg.locator(MYST_ADMONITION).first.wait_for(timeout=60_000)
        except PlaywrightTimeout:
            shown = pg.locator(".jp-MarkdownCell pre").all_inner_texts()[:3]
            pytest.fail(f"{page.path}: no MyST admonition rendered (is jupyterlab-myst installed?); "
                        f"raw blocks shown: {shown}")
        solutions = wanted["solution"] + wanted["solution-start"]
        try:  # every markdown cell renders on its own: wait until all are there
            pg.wait_for_function(
                "([a, na, s, ns]) => document.querySelectorAll(a).length >= na"
                " && document.querySelectorAll(s).length >= ns",
                arg=[MYST_ADMONITION, wanted["admonition"], MYST_SOLUTION, solutions], timeout=30_000,
            )
        except PlaywrightTimeout:
            pass  # the counts below say what is missing
        assert pg.locator(MYST_ADMONITION).count() == wanted["admonition"]
        exercises = pg.locator(f"{MYST_EXERCISE}:not(details) .myst-exercise-title",
                               has_text=re.compile(r"^\s*Exercise\s+\d"))
        assert exercises.count() == wanted["exercise"]
        assert pg.locator(MYST_SOLUTION).count() == solutions, "every solution renders as a dropdown"
        rendered = " ".join(pg.locator(".jp-MarkdownCell .jp-Cell-inputArea").all_inner_texts())
        for raw in (":class:", ":label:", "{admonition}", "{exercise}", "{solution"):
            assert raw not in rendered, f"{page.path}: {raw!r} shown raw in a markdown cell"

        think = pg.locator(MYST_ADMONITION).filter(
            has=pg.locator(".myst-admonition-header", has_text=re.compile(r"^\s*Think!\s*$")))
        assert think.count() >= 1, f"{page.path}: no Think! admonition"
        think = think.first
        assert think.locator(".myst-admonition-body .katex").count() >= 1, "the Think! box's maths is not rendered"
        assert "$" not in think.inner_text(), "the Think! box shows raw $...$"

        solution = pg.locator(MYST_SOLUTION).filter(
            has=pg.locator("summary", has_text=re.compile(r"^\s*Solution to"))).first
        body = solution.locator(".details-body")
        assert solution.get_attribute("open") is None and not body.is_visible(), "a solution is not folded"
        solution.locator("summary").click()
        body.wait_for(state="visible", timeout=10_000)
        assert body.inner_text().strip(), "the unfolded solution is empty"
        assert pg.locator(f"{MYST_SOLUTION}[open]").count() == 1, "opening one solution opened others"
    finally:
        page.close()


#: The lecture commands README.md and book/teaching.md tell a lecturer to use: (command id, menu
#: or palette label, where the installed JupyterLab defines it).
LECTURE_COMMANDS = [
    ("RISE:preview", "Render as Reveal Slideshow", "labextensions/jupyterlab-rise"),
    ("application:toggle-mode", "Simple Interface", "lab/static"),
    ("application:toggle-presentation-mode", "Presentation Mode", "lab/static"),
    ("notebook:hide-all-cell-code", "Collapse All Code", "lab/static"),
]


@pytest.mark.parametrize(("command", "label", "where"), LECTURE_COMMANDS, ids=[c[0] for c in LECTURE_COMMANDS])
def test_lecture_docs_name_commands_that_exist(command, label, where):
    """The docs name each lecture command by its id and label, and the installed JupyterLab has both."""
    for doc in ("README.md", "book/teaching.md"):
        text = " ".join((ROOT / doc).read_text().split())
        assert f"`{command}`" in text, f"{doc} does not name the command {command}"
        assert label in text, f"{doc} does not name the label {label!r}"
    share = Path(sys.prefix) / "share" / "jupyter" / where
    sources = [p.read_text(errors="replace") for p in share.rglob("*") if p.suffix in (".js", ".json")]
    assert sources, f"nothing installed under {share}"
    quoted = [f'"{command}"', f"'{command}'", f'__("{label}")']
    for needle in quoted[:2], quoted[2:]:
        assert any(n in s for s in sources for n in needle), f"{needle} not found under {share}"
