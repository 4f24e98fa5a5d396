"""Small fixes to the book's HTML pages (a local Sphinx extension, loaded by _config.yml).

sphinx-thebe registers its inline configuration script twice under Jupyter Book 1, so every
page declared ``const THEBE_JS_URL`` twice and the browser logged a SyntaxError. This drops
exact duplicate scripts from each page.

The theme also put a second search field, alone, in a header bar above every page, beside the
sidebar's own: the header's "persistent" items are emptied, so the sidebar's field is the one.

Docutils marks each bibliography entry ``role="doc-biblioentry"`` inside a ``role="list"``: a
list must hold list items (WCAG 1.3.1; the axe-core audit of the browser tests flags it as
critical), and DPUB-ARIA deprecates that role, so entries become ``role="listitem"``.

The single-page build (``--builder singlehtml``, printed by ``make pdf``) looks up the
translation handlers of custom nodes under the builder's name first and falls back to its
format ("html") only when no extension registered any for "singlehtml". sphinx-exercise
registers some, so every other extension's HTML handlers (sphinx-jupyterbook-latex's hidden
toctree node, for one) went missing and the build failed; they are copied over.

Every static explorer's frames were base64 PNGs inside its page (chapter 2's HTML was 3 MB, ready
only after 6 s at 10 Mbit/s). After the HTML build each page keeps every explorer's first frame and
the other frames move to ``_static/nnp-frames/<id>.js``, which the scrubber loads when it comes near
the viewport or is touched (``nnpuzzles.explorer.externalise_frames``). The single-page build that
``make pdf`` prints keeps them inline, so the print edition sees every frame. Figures load lazily,
with their sizes, and the theme's 1.4 MB icon script and its icon fonts after the page
(``lighter_page``). On a 3G line (1.6 Mbit/s) chapter 2 was ready after 8.6 s with the frames
external but those bytes in the way, and is ready after 3.5 s with them out of the way; every
chapter is ready within 1.1 s at 10 Mbit/s (``benchmarks/page_load.py``, the status page).
"""

from __future__ import annotations

import html
import os
import re
import struct
from pathlib import Path


def _script_key(script):
    filename = getattr(script, "filename", script) or ""  # inline scripts come as None or ""
    return (filename, tuple(sorted(getattr(script, "attributes", {}).items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: later handlers (e.g. MathJax) append to this same list


def citation_entries_are_list_items(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def one_search_field(app, config):
    config.html_theme_options = {**(config.html_theme_options or {}), "navbar_persistent": []}


def singlehtml_inherits_html_handlers(app):
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, pair in handlers.get("html", {}).items():
        single.setdefault(name, pair)


_PNG_SIZE = struct.Struct(">II")  # width and height in a PNG's IHDR chunk, bytes 16-24
_IMG = re.compile(r"<img\b[^>]*>")
_FONTAWESOME = re.compile(r'<script defer src="([^"]*_static/scripts/fontawesome\.js[^"]*)"></script>')
# Until the page has loaded, no icon is drawn from the theme's icon fonts (the header's icons, the
# admonitions' title icons), so the browser does not fetch the fonts (270 kB) while it still loads
# the page's own files; at load the icon script comes, which draws the header's icons as SVG.
_ICONS_AFTER_LOAD = ("html:not(.nnp-loaded) :is(.fa, .fas, .far, .fab, .fa-solid, .fa-regular, .fa-brands)"
                     "::before, html:not(.nnp-loaded) .admonition-title::after { content: none !important; }")
_AFTER_LOAD = ("<style>" + _ICONS_AFTER_LOAD.replace("{", "{{").replace("}", "}}") + "</style>"
               '<script>addEventListener("load", function () {{ '
               'document.documentElement.classList.add("nnp-loaded"); var s = document.createElement("script"); '
               's.src = "{}"; document.head.appendChild(s); }});</script>')


def png_size(path: Path) -> tuple[int, int] | None:
    with path.open("rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return _PNG_SIZE.unpack(head[16:24])


def lighter_page(text: str, folder: Path) -> str:
    """A page that is ready sooner on a slow line: its figures load lazily with their size known
    (so the layout does not jump), and the theme's icon script, 1.4 MB that only swaps the icon
    font for SVG, and its icon fonts load after the page instead of before it is ready."""

    def figure(match):
        tag = match.group(0)
        src = re.search(r'\ssrc="([^"]+)"', tag)
        if " loading=" in tag or not src or not re.match(r"[./]*_images/[^\"]+\.png$", src.group(1)):
            return tag
        target = folder / html.unescape(src.group(1))
        size = png_size(target) if target.is_file() and " width=" not in tag and " height=" not in tag else None
        extra = f' width="{size[0]}" height="{size[1]}"' if size else ""
        return tag.replace("<img", f'<img loading="lazy" decoding="async"{extra}', 1)

    text = _IMG.sub(figure, text)
    return _FONTAWESOME.sub(lambda m: _AFTER_LOAD.format(html.unescape(m.group(1)).replace('"', "%22")), text)


def lighter_pages(app, exception):
    """After the HTML build (not the single page ``make pdf`` prints): every explorer keeps its
    first frame in the page and loads the others from ``_static/nnp-frames/<id>.js``, and every
    page gets :func:`lighter_page`."""
    if exception is not None or app.builder.name != "html":
        return
    from nnpuzzles.explorer import externalise_frames

    out = Path(app.outdir)
    frames_dir = out / "_static" / "nnp-frames"
    for page in out.rglob("*.html"):
        if frames_dir.parent in page.parents:
            continue
        original = text = page.read_text(encoding="utf-8")
        if "nnp-frames" in text:
            prefix = os.path.relpath(frames_dir, page.parent).replace(os.sep, "/")
            text, files = externalise_frames(text, lambda uid, prefix=prefix: f"{prefix}/{uid}.js")
            if files:
                frames_dir.mkdir(parents=True, exist_ok=True)
            for uid, script in files.items():
                (frames_dir / f"{uid}.js").write_text(script, encoding="utf-8")
        text = lighter_page(text, page.parent)
        if text != original:
            page.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("config-inited", one_search_field)
    app.connect("builder-inited", singlehtml_inherits_html_handlers)
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)  # before handlers that return
    app.connect("html-page-context", citation_entries_are_list_items, priority=100)
    app.connect("build-finished", lighter_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
