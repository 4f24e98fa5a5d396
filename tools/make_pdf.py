"""Print the whole book as one PDF, offline (``make pdf``): ``_build/pdf/four-puzzles.pdf``.

    python tools/make_pdf.py                    # build the single-page HTML, then print it
    python tools/make_pdf.py --no-build         # print the existing _build/singlehtml again
    python tools/make_pdf.py --path-output DIR  # build and print into DIR/_build (the test does)

1. Jupyter Book's ``singlehtml`` builder writes the whole book as one page into
   ``_build/singlehtml`` (with ``--warningiserror --nitpick``, like ``make book``).
2. That page is served on 127.0.0.1 and opened in Debian's Chromium through Playwright (never
   ``playwright install``; Jupyter Book's own ``pdfhtml`` builder would download a browser).
   Every request that is not to the local server is refused and fails the run.
3. Once MathJax has typeset the maths (``MathJax.startup.promise``) and the fonts and images are
   loaded, ``tools/print_edition.js`` and ``tools/print_edition.css`` are injected: each static
   explorer is printed as a grid of its preset frames, captioned with the preset's name and the
   parameter values, instead of its sliders and buttons (the explorer's HTML, which the
   notebooks store, is not changed), and each part of the table of contents gets a heading.
   The frames are read from the page and checked (PNG data, indices in range); an explorer
   whose grid cannot be built fails the run.
4. ``page.pdf`` prints it (A4, with the headings as the PDF's outline). The PDF's size, the
   number of explorers and the build and print times are reported.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINGLE = Path("_build") / "singlehtml"  # under the output directory (the repository by default)
OUT = Path("_build") / "pdf" / "four-puzzles.pdf"
PRINT_JS = ROOT / "tools" / "print_edition.js"
PRINT_CSS = ROOT / "tools" / "print_edition.css"
#: The copy of the root page that is printed: at the top of the build, where its links to
#: ``_static/`` and ``_images/`` resolve (Sphinx writes the single page at the root document's
#: path, ``book/intro.html``, with links relative to the build's top).
PRINTED_PAGE = "print.html"
#: The page is laid out at the width of 1/PRINT_SCALE of A4's text block (about the web page's),
#: so the figures and displayed formulas fit, and the text prints at about 10 pt.
PRINT_SCALE = 0.85

sys.path.insert(0, str(ROOT / "tests" / "lab"))
from lab_driver import launch_browser  # noqa: E402 - Debian's Chromium, shared with the browser tests


def build_single_page(output: Path = ROOT) -> float:
    """Build the book with the singlehtml builder into ``output``/_build/singlehtml; return seconds taken."""
    start = time.perf_counter()
    shutil.rmtree(output / SINGLE, ignore_errors=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", "--builder", "singlehtml", "--warningiserror", "--nitpick",
               "--keep-going", str(ROOT)]
    if output.resolve() != ROOT:
        command += ["--path-output", str(output)]
    subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - start


def root_page(single: Path, root: Path = ROOT) -> Path:
    """The single page Sphinx wrote: the table of contents' root document, as HTML."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    page = single / (str(toc["root"]) + ".html")
    if not page.is_file():
        raise SystemExit(f"{page} is missing: build the single page first (without --no-build)")
    return page


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class PrintError(RuntimeError):
    """The page could not be printed as the book (remote requests, bad explorers, no maths)."""


def print_pdf(single: Path = ROOT / SINGLE, out: Path = ROOT / OUT, timeout: float = 300) -> dict:
    """Print the single page in ``single`` to ``out``; return what was printed (explorers, parts)."""
    from playwright.sync_api import sync_playwright

    shutil.copyfile(root_page(single), single / PRINTED_PAGE)
    out.parent.mkdir(parents=True, exist_ok=True)
    server = serve(single)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    refused: list[str] = []

    def only_local(route):
        if route.request.url.startswith((base, "data:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    start = time.perf_counter()

    def step(what):
        print(f"  {time.perf_counter() - start:5.0f} s  {what}", flush=True)

    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 1400})
                page.set_default_timeout(timeout * 1000)
                page.route("**/*", only_local)
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.emulate_media(media="print", color_scheme="light")
                page.goto(base + PRINTED_PAGE, wait_until="load")
                step("page loaded")
                # Lazy images load only near the viewport: load them all before printing.
                page.evaluate("() => document.querySelectorAll('img[loading=lazy]')"
                              ".forEach(img => { img.loading = 'eager'; })")
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
                page.evaluate("() => MathJax.startup.promise")
                typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
                step(f"maths typeset ({typeset} formulas)")
                page.add_style_tag(content=PRINT_CSS.read_text(encoding="utf-8"))
                page.add_script_tag(content=PRINT_JS.read_text(encoding="utf-8"))
                parts = page.evaluate("() => nnpPrintParts()")
                explorers = page.evaluate("() => nnpPrintGrids()")
                page.evaluate("() => document.fonts.ready.then(() => true)")
                page.wait_for_function("() => Array.from(document.images).every(img => img.complete)")
                broken = page.evaluate("() => Array.from(document.images).filter("
                                       "img => !img.naturalWidth).map(img => img.src.slice(0, 80))")
                bad = [e for e in explorers if "error" in e]
                if refused or bad or broken or not typeset or not explorers or errors:
                    raise PrintError(f"refused remote requests: {refused[:5]}; explorers without a grid: "
                                     f"{bad}; broken images: {broken[:5]}; maths typeset: {typeset}; "
                                     f"explorers: {len(explorers)}; page errors: {errors[:5]}")
                step("explorer grids built, printing")
                # A tagged PDF (accessible; Chromium builds the outline, the PDF's bookmarks, from its tags).
                page.pdf(path=str(out), format="A4", scale=PRINT_SCALE, print_background=True,
                         prefer_css_page_size=True, outline=True, tagged=True, display_header_footer=True,
                         header_template="<span></span>",
                         footer_template='<div style="width:100%;font-size:8pt;text-align:center;'
                                         'color:#555"><span class="pageNumber"></span></div>')
                step("printed")
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return {"explorers": explorers, "parts": parts, "maths": typeset}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="print the existing _build/singlehtml")
    parser.add_argument("--path-output", type=Path, default=ROOT,
                        help=f"build into PATH/{SINGLE} and print to PATH/{OUT} (default: the repository)")
    args = parser.parse_args(argv)
    output = args.path_output.resolve()
    build = 0.0 if args.no_build else build_single_page(output)
    start = time.perf_counter()
    out = output / OUT
    printed = print_pdf(output / SINGLE, out)
    seconds = time.perf_counter() - start
    from pypdf import PdfReader

    pages = len(PdfReader(out).pages)
    frames = sum(len(e["captions"]) for e in printed["explorers"])
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {pages} pages; "
          f"{len(printed['explorers'])} explorers as {frames} captioned frames, "
          f"{len(printed['parts'])} parts, {printed['maths']} formulas; "
          f"single page built in {build:.0f} s, printed in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
