"""The built HTML book: complete, self-contained (no CDN), light, with launch buttons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

from bs4 import BeautifulSoup
from built_site import ROOT, chapter_pages

MAX_PAGE_BYTES = 6 * 1024**2
MAX_SITE_BYTES = 80 * 1024**2
MAX_CHAPTER_HTML_BYTES = 500 * 1024  # a chapter's own HTML, its explorers' first frames included


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def is_remote(url: str) -> bool:
    return urlparse(url).scheme in ("http", "https") or url.startswith("//")


def test_every_chapter_is_built(site):
    missing = [str(p.relative_to(site)) for p in chapter_pages() if not p.exists()]
    assert not missing, f"chapters without a built page: {missing}"


def test_no_page_loads_anything_remote(site):
    """Scripts, styles, fonts, images and frames all come from the site itself."""
    offenders = []
    for page in pages(site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag, attr in [("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                          ("source", "src"), ("video", "src"), ("audio", "src")]:
            for element in soup.find_all(tag):
                url = element.get(attr)
                if tag == "link" and not set(element.get("rel", [])) & {"stylesheet", "preload", "icon",
                                                                        "modulepreload", "prefetch"}:
                    continue
                if url and is_remote(url):
                    offenders.append(f"{page.relative_to(site)}: <{tag} {attr}={url}>")
        for style in soup.find_all("style"):
            offenders += [f"{page.relative_to(site)}: css url({u})"
                          for u in re.findall(r"url\(['\"]?([^'\")]+)", style.text) if is_remote(u)]
    assert not offenders, "remote resources:\n" + "\n".join(offenders[:20])


def test_local_css_loads_nothing_remote(site):
    offenders = []
    for css in (site / "_static").rglob("*.css"):
        for url in re.findall(r"url\(['\"]?([^'\")]+)", css.read_text(encoding="utf-8", errors="replace")):
            if is_remote(url):
                offenders.append(f"{css.relative_to(site)}: {url}")
    assert not offenders, offenders


def test_mathjax_and_widget_manager_are_served_locally(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert (site / "_static" / "jupyter-widgets" / "embed-amd.js").exists()
    chapter = chapter_pages()[0].read_text(encoding="utf-8")
    assert re.search(r'<script[^>]+src="[./]*_static/mathjax/tex-chtml\.js', chapter), "MathJax not local"


def test_chapter_pages_have_static_explorers_and_no_dead_widgets(site):
    for page in chapter_pages():
        html = page.read_text(encoding="utf-8")
        assert 'class="nnp-explorer"' in html, f"{page.name}: no explorer"
        assert "application/vnd.jupyter.widget-view+json" not in html, f"{page.name}: dead live widget"


def test_every_image_has_alt_text(site):
    missing = []
    for page in chapter_pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        main = soup.find("main") or soup
        missing += [f"{page.name}: {str(img)[:80]}" for img in main.find_all("img")
                    if not (img.get("alt") or "").strip() and "logo" not in " ".join(img.get("class", []))]
    assert not missing, missing


def test_page_and_site_weight(site):
    heavy = {}
    for page in chapter_pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        size = page.stat().st_size
        for img in soup.find_all("img"):
            src = img.get("src", "")
            if src and not src.startswith("data:") and not is_remote(src):
                target = (page.parent / src).resolve()
                if target.exists():
                    size += target.stat().st_size
        if size > MAX_PAGE_BYTES:
            heavy[page.name] = size
    assert not heavy, f"pages over 6 MB (bytes): {heavy}"
    total = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    assert total < MAX_SITE_BYTES, f"site is {total / 1024**2:.1f} MB"


def test_launch_buttons_point_at_the_chapter_notebooks(site):
    for page in chapter_pages():
        html = page.read_text(encoding="utf-8")
        notebook = page.relative_to(site).with_suffix(".ipynb").as_posix()
        binder = re.search(r'href="(https://mybinder\.org/v2/gh/[^"]+)"', html)
        colab = re.search(r'href="(https://colab\.research\.google\.com/github/[^"]+)"', html)
        assert binder and notebook in binder.group(1).replace("%2F", "/"), f"{page.name}: Binder button"
        assert colab and colab.group(1).endswith(notebook), f"{page.name}: Colab button"


def test_references_and_exercises_render(site):
    for page in chapter_pages():
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert soup.select(".bibliography, .citation, div.docutils.container"), f"{page.name}: no bibliography"
        assert soup.select(".exercise"), f"{page.name}: no exercise"
        assert soup.select(".solution.dropdown, .solution.toggle, details.solution, .dropdown"), \
            f"{page.name}: no hidden solution"
    assert (ROOT / "book" / "notation.md").exists()


def test_one_search_field_per_page(site):
    """The sidebar's search field only: no second one alone in a header bar (reader review, 7)."""
    for page in pages(site):
        if page.name in ("index.html", "search.html"):  # a redirect, and the search page itself
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert len(soup.select("button.search-button-field")) == 1, page.relative_to(site)


def test_explorer_frames_live_in_files_of_their_own(site):
    """Each chapter's HTML keeps every explorer's first frame and stays under 500 kB; the other
    frames are in ``_static/nnp-frames/<id>.js``, all of them, as many as the explorer's note says."""
    heavy, problems = {}, []
    frames_dir = (site / "_static" / "nnp-frames").resolve()
    for page in chapter_pages():
        html = page.read_text(encoding="utf-8")
        if len(html.encode()) > MAX_CHAPTER_HTML_BYTES:
            heavy[page.name] = len(html.encode())
        for root in BeautifulSoup(html, "html.parser").select("div.nnp-explorer"):
            name = f"{page.name}#{root['id']}"
            holder = root.select_one("script.nnp-frames")
            if root.get("data-frames") != "external" or not holder.get("data-src") or holder.text.strip():
                problems.append(f"{name}: frames still inline")
                continue
            target = (page.parent / holder["data-src"]).resolve()
            if target.parent != frames_dir or not target.exists():
                problems.append(f"{name}: no frames file at {holder['data-src']}")
                continue
            prefix = f'(window.nnpFrames = window.nnpFrames || {{}})["{root["id"]}"] = '
            script = target.read_text(encoding="utf-8")
            assert script.startswith(prefix), name
            frames = json.loads(script[len(prefix):].rstrip().rstrip(";"))
            stated = int(re.search(r"([\d,]+) pre-rendered frames", root.select_one(".nnp-note").text)
                         .group(1).replace(",", ""))
            first = root.select_one("img.nnp-frame")["src"].removeprefix("data:image/png;base64,")
            if len(frames) != stated or first not in frames.values():
                problems.append(f"{name}: {len(frames)} frames in the file, {stated} stated")
    assert not heavy, f"chapter HTML over 500 kB (bytes): {heavy}"
    assert not problems, problems
