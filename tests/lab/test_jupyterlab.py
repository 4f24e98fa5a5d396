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
import time
from pathlib import Path

import nbformat
import pytest
from lab_driver import EXPLORER, ROOT, LiveExplorer, NotebookPage, chapter_notebooks, stored_explorers
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
    ("slideshow:open", "Open as Slideshow", "labextensions/jupyterlab-myst-revealjs"),
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
    # a label is translated (__("...")) in JupyterLab's own commands, a plain string in some extensions
    quoted = [f'"{command}"', f"'{command}'", f'__("{label}")', f'"{label}"']
    for needle in quoted[:2], quoted[2:]:
        assert any(n in s for s in sources for n in needle), f"{needle} not found under {share}"


# ------------------------------------------------------------------ lecture slides (issue 16)
#: The slideshow tab of jupyterlab-myst-revealjs (command `slideshow:open`) and its reveal.js deck.
SLIDESHOW = ".jp-SlideshowContent"
SLIDE_SECTIONS = f"{SLIDESHOW} .reveal .slides > section"
#: The indices of the slide shown, read from the deck's DOM (reveal.js marks it `present`).
PRESENT_SLIDE_JS = """(sel) => {
    const outer = [...document.querySelectorAll(sel)];
    const h = outer.findIndex(s => s.classList.contains('present'));
    const inner = h < 0 ? [] : [...outer[h].querySelectorAll(':scope > section')];
    return [h, inner.findIndex(s => s.classList.contains('present'))];
}"""


def slide_structure(notebook: Path) -> list[int]:
    """How many vertical slides each horizontal slide holds, from the cells' slide metadata
    (`slide` opens a horizontal slide, `subslide` a vertical one in it; `skip` cells are left out)."""
    counts: list[int] = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if kind == "skip":
            continue
        if kind == "slide" or not counts:
            counts.append(1)
        elif kind == "subslide":
            counts[-1] += 1
    return counts


def removed_sources(notebook: Path) -> list[str]:
    """The first line of every code cell tagged remove-cell (the chapter's assertion cells)."""
    return [cell.source.strip().splitlines()[0] for cell in nbformat.read(notebook, as_version=4).cells
            if cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", []) and cell.source.strip()]


@pytest.mark.skipif(not CHAPTER_1.exists(), reason="chapter 1 is the lecture test's chapter")
def test_lecture_slideshow_explorer_is_live(lab_server, lab_browser):
    """A lecturer runs chapter 1, opens it as a slideshow (jupyterlab-myst-revealjs with the
    book's extension, labextension/), goes to the retrieval playground's slide, moves its first
    slider with the arrow keys and presses a preset: the figure on the slide changes and the slide
    does not. The slides follow the chapter's slide metadata, show no assertion cell and fold the
    explorer's code; outside a widget the arrow keys still turn the slides."""
    page = NotebookPage.open(lab_browser, lab_server, CHAPTER_1)
    pg = page.page
    try:
        page.restart_and_run_all()
        _fail_with_errors(page, "error or stderr output after Restart Kernel and Run All", page.cell_errors())
        assert page.command("slideshow:open")
        pg.locator(SLIDE_SECTIONS).first.wait_for(timeout=60_000)
        page.wait_idle()

        # The slide structure is the chapter's: one horizontal slide per `slide` cell, its subslides in it.
        wanted = slide_structure(CHAPTER_1)
        got = pg.evaluate("(sel) => [...document.querySelectorAll(sel)].map("
                          "s => Math.max(1, s.querySelectorAll(':scope > section').length))", SLIDE_SECTIONS)
        assert got == wanted, f"slides per section {got}, the chapter's metadata says {wanted}"

        # The explorer on its slide is the live view (not "Loading widget..." nor the static scrubber).
        slides = pg.locator(SLIDESHOW)
        views = slides.locator(EXPLORER)
        try:
            views.first.wait_for(state="attached", timeout=60_000)
        except PlaywrightTimeout:
            shown = [t for t in slides.locator(".jp-OutputArea-output").all_inner_texts() if "widget" in t.lower()]
            pytest.fail(f"no live explorer on the slides; its outputs show {shown[:3]}")
        expected = [e["title"] for e in stored_explorers(CHAPTER_1)]
        explorers = [LiveExplorer(page, views.nth(i)) for i in range(views.count())]
        assert sorted(e.title for e in explorers) == sorted(expected)
        explorer = explorers[0]

        # Assertion cells are not on the slides; the explorer's code is folded, its output shown.
        visible_code = pg.evaluate(
            """(sel) => [...document.querySelectorAll(sel + ' .jp-Slideshow-codeCellContainer')]
                .filter(c => c.checkVisibility() && c.querySelector('.jp-InputArea').checkVisibility())
                .map(c => c.querySelector('.jp-InputArea').textContent)""", SLIDESHOW)
        for first_line in removed_sources(CHAPTER_1):
            assert not any(first_line in code for code in visible_code), f"assertion cell on a slide: {first_line}"
        cell = explorer.root.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')][1]")
        assert not cell.locator(".jp-InputArea").is_visible(), "the explorer's code shows on its slide"

        # Go to the explorer's slide (reveal.js's own API: the deck is the slideshow content's).
        pg.evaluate(
            """(img) => {
                const w = window.jupyterapp.shell.currentWidget;
                const deck = w.content._reveal;
                const section = img.closest('section');
                const i = deck.getIndices(section);
                deck.slide(i.h, i.v);
            }""", explorer.image.element_handle())
        pg.wait_for_function("(img) => img.closest('section').classList.contains('present')",
                             arg=explorer.image.element_handle())
        time.sleep(1)  # the slide transition
        at = pg.evaluate(PRESENT_SLIDE_JS, SLIDE_SECTIONS)
        assert explorer.image.is_visible(), "the explorer's slide does not show it"

        handle = explorer.sliders()[0]
        label = explorer.slider_label(handle)
        key = explorer.step_direction(handle)
        before_src, before = explorer.src(), explorer.pixels()
        # As a lecturer who has been turning the slides: the deck has been clicked (reveal.js then
        # takes the arrow keys), and now the slider has the focus.
        heading = explorer.root.locator("xpath=ancestor::section[1]").locator("h3").first
        heading.click()
        handle.focus()
        for _ in range(ARROW_PRESSES):
            pg.keyboard.press(key)
        settled = explorer.wait_settled(before_src)
        assert pg.evaluate(PRESENT_SLIDE_JS, SLIDE_SECTIONS) == at, f"{key} on slider {label!r} turned the slide"
        _fail_with_errors(page, f"explorer error after moving {label!r}", explorer.output_errors())
        assert settled and explorer.pixels() != before, f"{ARROW_PRESSES} x {key} on {label!r} left the slide's figure"

        changed = False
        for button in explorer.presets():
            before_src, before = explorer.src(), explorer.pixels()
            button.click()
            explorer.wait_settled(before_src, timeout=10)
            if explorer.pixels() != before:
                changed = True
                break
        assert changed, "no preset changed the figure on the slide"
        assert pg.evaluate(PRESENT_SLIDE_JS, SLIDE_SECTIONS) == at, "a preset turned the slide"

        # Outside a widget the arrow keys still turn the slides (reveal.js listens once the deck
        # has been clicked).
        heading.click()
        pg.keyboard.press("ArrowRight")
        pg.wait_for_function("([sel, at]) => JSON.stringify((" + PRESENT_SLIDE_JS + ")(sel)) !== JSON.stringify(at)",
                             arg=[SLIDE_SECTIONS, at], timeout=10_000)
    finally:
        page.close()
