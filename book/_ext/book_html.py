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
"""

from __future__ import annotations


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


def setup(app):
    app.connect("config-inited", one_search_field)
    app.connect("builder-inited", singlehtml_inherits_html_handlers)
    app.connect("html-page-context", drop_duplicate_scripts, priority=100)  # before handlers that return
    app.connect("html-page-context", citation_entries_are_list_items, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
