"""The print edition (`make pdf`): the whole book printed by Debian's Chromium into one PDF.

tools/make_pdf.py builds the single-page HTML and prints it once per session, into a temporary
directory (the repository's _build is left alone). The PDF must hold every page of the table of
contents as a heading of its outline, with its body; every explorer of the book (read from the
chapters' stored outputs, not from the page) as a grid of its preset frames whose captions name
the preset and the parameter values; every stored figure; and typeset maths, not TeX.
The print script itself is checked on explorers made here: evenly spaced frames without
presets, and a tampered page that must not be printed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from built_site import ROOT
from nnpuzzles.bookfiles import chapter_notebooks

PRINT_JS = ROOT / "tools" / "print_edition.js"
NOTE = "The explorer at its presets; the book online and the notebook have the sliders."


def normalise(text: str) -> str:
    """Compatibility forms (the PDF's ligatures: "ﬁ" is "fi"), single spaces, and a line broken
    after a hyphen joined again ("1e-" and "3" on two lines are "1e-3")."""
    text = re.sub(r"-[ \t]*\n\s*", "-", unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class PrintedBook:
    path: Path
    reader: object
    text: str  # every page's text, normalised, in order
    page_texts: list[str]  # each page's text, normalised, without the page number
    report: str  # the tool's last line
    seconds: float


@pytest.fixture(scope="session")
def book_pdf(tmp_path_factory) -> PrintedBook:
    from pypdf import PdfReader

    out = tmp_path_factory.mktemp("print-edition")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_pdf.py"), "--path-output", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=1500)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    path = out / "_build" / "pdf" / "four-puzzles.pdf"
    reader = PdfReader(path)
    page_texts = [re.sub(rf" ?{number}$", "", normalise(page.extract_text()))  # without the footer's page number
                  for number, page in enumerate(reader.pages, start=1)]
    return PrintedBook(path, reader, " ".join(page_texts), page_texts,
                       result.stdout.strip().splitlines()[-1], seconds)


# ---------------------------------------------------------------- what the book holds
def toc_pages() -> list[Path]:
    """The source of every page of the table of contents, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]
    found = []
    for name in files:
        matches = [ROOT / f"{name}{suffix}" for suffix in (".md", ".ipynb") if (ROOT / f"{name}{suffix}").exists()]
        assert len(matches) == 1, name
        found += matches
    return found


def page_title(source: Path) -> str:
    if source.suffix == ".ipynb":
        first = "".join(json.loads(source.read_text(encoding="utf-8"))["cells"][0]["source"])
    else:
        first = source.read_text(encoding="utf-8")
    return next(line for line in first.splitlines() if line.startswith("# "))[2:].strip()


class _ExplorerCaptions(HTMLParser):
    """What each static explorer's print grid must say, read from a stored output's HTML."""

    def __init__(self):
        super().__init__()
        self.explorers: list[dict] = []
        self._label: str | None = None
        self._button: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "div" and "nnp-explorer" in classes and "data-title" in attrs:
            self.explorers.append({"title": attrs["data-title"], "order": json.loads(attrs["data-params"]),
                                   "params": {}, "presets": []})
        elif tag == "label" and "nnp-control" in classes:
            self._label = ""
        elif tag == "input" and self._label is not None:
            self.explorers[-1]["params"][attrs["data-param"]] = {
                "text": self._label.strip(), "labels": json.loads(attrs["data-labels"]), "start": int(attrs["value"])}
            self._label = None
        elif tag == "button" and "nnp-preset" in classes:
            self._button = {"index": json.loads(attrs["data-preset"]), "name": ""}

    def handle_data(self, data):
        if self._label is not None:
            self._label += data
        if self._button is not None:
            self._button["name"] += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.explorers[-1]["presets"].append(self._button)
            self._button = None


def expected_captions(explorer: dict) -> list[str]:
    params = explorer["params"]
    captions = []
    for preset in explorer["presets"]:
        values = ", ".join(
            f"{params[name]['text']} = {params[name]['labels'][preset['index'].get(name, params[name]['start'])]}"
            for name in explorer["order"])
        captions.append(f"{preset['name'].strip()}: {values}")
    return captions


def stored_outputs():
    """(chapter, output) for every stored output of every chapter, in order."""
    for notebook in chapter_notebooks(ROOT):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                yield notebook, output


def book_explorers() -> list[dict]:
    parser = _ExplorerCaptions()
    for _, output in stored_outputs():
        html = output.get("data", {}).get("text/html")
        if html:
            parser.feed("".join(html))
    return parser.explorers


def stored_figures() -> int:
    return sum("image/png" in output.get("data", {}) for _, output in stored_outputs())


def image_count(reader) -> int:
    """Image XObjects the pages draw (directly or inside form XObjects), each counted once."""
    seen = set()

    def visit(resources):
        xobjects = (resources or {}).get("/XObject")
        for ref in (xobjects.get_object() if xobjects else {}).values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                seen.add(ref.idnum)
            elif obj.get("/Subtype") == "/Form" and obj.get("/Resources"):
                visit(obj["/Resources"].get_object())

    for page in reader.pages:
        if page.get("/Resources"):
            visit(page["/Resources"].get_object())
    return len(seen)


# ---------------------------------------------------------------- the printed book
def outline(reader) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of every entry of the PDF's outline (its bookmarks), in order."""
    entries = []

    def visit(items, depth):
        for item in items:
            if isinstance(item, list):
                visit(item, depth + 1)
            else:
                entries.append((depth, normalise(item.title), reader.get_destination_page_number(item)))

    visit(reader.outline, 0)
    return entries


def test_every_page_of_the_book_is_a_heading_of_the_pdf_with_its_body(book_pdf):
    """The root page, then each part's heading with its pages (chapters, front and back matter),
    in the table of contents' order; each page starts a new PDF page with its title at the top."""
    entries = [entry for entry in outline(book_pdf.reader) if entry[0] <= 2]
    sources = toc_pages()
    assert len(sources) >= 20
    found, position = [], 0
    for k, source in enumerate(sources):
        title = normalise(page_title(source))
        depth = 0 if k == 0 else 2  # the root's h1; under it the parts, under each part its pages
        hits = [i for i in range(position, len(entries))
                if entries[i][0] == depth and entries[i][1].startswith(title)
                and title in book_pdf.page_texts[entries[i][2]][:300]]  # at the top (after a list's labels)
        assert hits, f"{title!r} is not a heading starting a page of the PDF, after {entries[position - 1:position]}"
        position = hits[0] + 1
        found.append(entries[hits[0]][2])
    part_pages = [(title, page) for depth, title, page in entries if depth == 1]
    for part in yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["parts"]:
        caption = normalise(part["caption"])  # a page of its own, with the heading alone
        assert any(title.startswith(caption) and book_pdf.page_texts[page] == caption
                   for title, page in part_pages), f"part {caption!r} has no page of its own"
    lengths = [end - start for start, end in zip(found, found[1:] + [len(book_pdf.reader.pages)], strict=True)]
    chapters = [n for source, n in zip(sources, lengths, strict=True) if source.suffix == ".ipynb"]
    assert all(n >= 5 for n in chapters), f"chapters' page counts {chapters}: a chapter's body is missing"


def test_every_explorer_is_printed_as_a_grid_of_its_presets(book_pdf):
    explorers = book_explorers()
    assert len(explorers) >= 14  # at least one per chapter
    cursor = 0
    for explorer in explorers:  # in the book's order: the title, then the grid's captions, then its note
        assert explorer["presets"], f"{explorer['title']!r} has no presets (the chapters' explorers all have some)"
        grid = normalise(" ".join([explorer["title"], *expected_captions(explorer), NOTE]))
        at = book_pdf.text.find(grid, cursor)
        assert at >= 0, f"explorer {explorer['title']!r} is not printed as its grid (after the previous one): {grid!r}"
        cursor = at + len(grid)
    assert book_pdf.text.count(NOTE) == len(explorers)
    assert "Copy link to this setting" not in book_pdf.text and "Presets:" not in book_pdf.text  # controls hidden


def test_every_figure_and_every_grid_frame_is_an_image_of_the_pdf(book_pdf):
    frames = sum(len(explorer["presets"]) for explorer in book_explorers())
    figures = stored_figures()
    assert figures >= 14
    assert image_count(book_pdf.reader) >= figures + frames


def test_the_maths_is_typeset_and_the_run_is_reported(book_pdf):
    match = re.search(r"(\d+) explorers as (\d+) captioned frames, (\d+) parts, (\d+) formulas", book_pdf.report)
    assert match, book_pdf.report
    explorers, frames, parts, formulas = map(int, match.groups())
    assert explorers == len(book_explorers()) and parts == len(yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"])
    assert frames == sum(len(explorer["presets"]) for explorer in book_explorers())
    assert formulas >= 500
    for tex in ("\\(", "\\[", "\\begin{", "\\frac", "$$"):  # MathJax replaced every formula's TeX
        assert tex not in book_pdf.text, tex
    print(f"{book_pdf.report}; the whole make_pdf.py run took {book_pdf.seconds:.0f} s")


# ---------------------------------------------------------------- the print script alone
def explorer_page(browser, *explorers) -> object:
    page = browser.new_page()
    page.set_content("<main>" + "".join(e.static_html() for e in explorers) + "</main>")
    page.add_script_tag(content=PRINT_JS.read_text(encoding="utf-8"))
    return page


def line_explorer(presets=None):
    import numpy as np
    from nnpuzzles.explorer import Explorer, Slider

    def setup(fig):
        ax = fig.subplots()
        x = np.linspace(0, 1, 50)
        (line,) = ax.plot(x, x)

        def update(slope):
            line.set_ydata(slope * x)

        return update

    return Explorer(setup, [Slider("slope", 0.0, 2.0, frames=9, label="slope a")], presets=presets,
                    title="A line", alt="A straight line.", figsize=(2, 1), dpi=40)


def test_an_explorer_without_presets_prints_evenly_spaced_frames(browser):
    page = explorer_page(browser, line_explorer())
    try:
        report = page.evaluate("() => nnpPrintGrids()")
        assert report == [{"title": "A line", "captions": ["slope a = 0", "slope a = 0.75", "slope a = 1.25",
                                                           "slope a = 2"]}]
        images = page.eval_on_selector_all(".nnp-print-grid img", "els => els.map(e => e.src)")
        frames = json.loads(page.text_content("script.nnp-frames"))
        assert images == ["data:image/png;base64," + frames[key] for key in ("0", "3", "5", "8")]
    finally:
        page.close()


def test_a_tampered_explorer_gets_no_grid_and_is_reported(browser):
    page = explorer_page(browser, line_explorer({"steep": {"slope": 2.0}}), line_explorer())
    try:
        page.evaluate("""() => {
            const script = document.querySelectorAll("script.nnp-frames")[1];
            const frames = JSON.parse(script.textContent);
            frames["0"] = btoa("<svg onload=alert(1)>");
            script.textContent = JSON.stringify(frames);
        }""")
        report = page.evaluate("() => nnpPrintGrids()")
        assert report[0] == {"title": "A line", "captions": ["steep: slope a = 2"]}
        assert report[1] == {"title": "A line", "error": "frame 0 is not PNG data"}
        assert page.locator(".nnp-print-grid").count() == 1
    finally:
        page.close()
