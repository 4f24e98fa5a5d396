"""A real browser (Debian Chromium via Playwright) over the built book, served on 127.0.0.1.

Every chapter page: no console errors, MathJax rendered, and every static explorer's slider
and presets move its figure.
"""

from __future__ import annotations

import pytest
from built_site import HTML, ROOT, chapter_pages
from playwright.sync_api import expect


def open_page(browser, url, on_request=None):
    page = browser.new_page()
    if on_request is not None:
        page.on("request", on_request)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    remote = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(url, wait_until="load")
    return page, errors, remote


# Every line of a code cell or its printed output, folded cells opened, that is wider than its
# box (so that the reader would have to scroll sideways to see its end).
CUT_LINES = """() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  return [...document.querySelectorAll("div.cell_input pre, div.cell_output pre")]
    .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a)));
}"""


def test_icon_fonts_and_script_wait_until_the_page_has_loaded(browser, site_url):
    """The theme's icon script (1.4 MB) and icon fonts (270 kB) are requested only after the load
    event, so they do not slow a page on a slow line; then the icons are drawn (as SVG)."""
    chapter = chapter_pages()[0]
    page, errors, _ = open_page(browser, f"{site_url}/{chapter.relative_to(HTML).as_posix()}")
    try:
        page.wait_for_selector("svg.svg-inline--fa", state="attached", timeout=30_000)
        late = page.evaluate("""() => {
          const loaded = performance.getEntriesByType("navigation")[0].loadEventStart;
          return performance.getEntriesByType("resource")
            .filter(e => /fontawesome\\.js|fa-[a-z]+-[0-9]+\\.woff2/.test(e.name))
            .map(e => [e.name.split("/").pop(), e.startTime - loaded]);
        }""")
        assert any(name.startswith("fontawesome.js") for name, _ in late), late
        early = [(name, round(dt)) for name, dt in late if dt < 0]
        assert not early, f"requested before the load event (ms): {early}"
        assert not errors, errors
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 1440])
@pytest.mark.parametrize("chapter", chapter_pages(), ids=lambda p: p.stem)
def test_no_code_or_output_line_is_cut_at_the_page_column(browser, site_url, chapter, width):
    """In a laptop's window, code fits the page column and printed output wraps in it."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(f"{site_url}/{chapter.relative_to(HTML).as_posix()}", wait_until="load")
        assert page.locator("div.cell_input pre").count() > 0
        cut = page.evaluate(CUT_LINES)
        assert not cut, f"{len(cut)} code or output blocks scroll sideways, e.g. {cut[:3]}"
    finally:
        page.close()


@pytest.mark.parametrize("chapter", chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_in_a_real_browser(browser, site_url, chapter):
    page, errors, remote = open_page(browser, f"{site_url}/{chapter.relative_to(HTML).as_posix()}")
    try:
        page.wait_for_selector("mjx-container", state="attached", timeout=60_000)  # MathJax typeset the maths
        explorers = page.locator(".nnp-explorer")
        assert explorers.count() >= 1
        for k in range(explorers.count()):
            explorer = explorers.nth(k)
            explorer.scroll_into_view_if_needed()
            image = explorer.locator("img.nnp-frame")
            before = image.get_attribute("src")
            slider = explorer.locator("input[type=range]").first
            slider.focus()
            key = "ArrowLeft" if slider.input_value() == slider.get_attribute("max") else "ArrowRight"
            slider.press(key)
            # the frames come from a file of their own, loaded when the explorer nears the viewport
            # or is touched: the new frame may arrive a moment after the key press
            expect(image).not_to_have_attribute("src", before, timeout=30_000)
            if explorer.get_attribute("data-frames") == "external":
                expect(explorer).to_have_attribute("data-loaded", "true")
            presets = explorer.locator("button.nnp-preset")
            if presets.count():
                changed = False
                for p in range(presets.count()):  # at least one preset differs from the current frame
                    current = image.get_attribute("src")
                    presets.nth(p).click()
                    changed |= image.get_attribute("src") != current
                assert changed, f"explorer {k}: no preset changed the figure"
        assert not errors, f"console errors: {errors}"
        assert not remote, f"remote requests: {remote[:5]}"
    finally:
        page.close()


def test_explorer_frames_load_when_the_reader_comes_near(browser, site_url):
    """The page arrives with each explorer's first frame only; an explorer's other frames are
    requested when it scrolls near the viewport (not at page load when it is far below), and a
    frame set from the URL fragment appears once they have arrived."""
    chapter = next(p for p in chapter_pages()  # (that every explorer's frames are external is a site test)
                   if p.read_text(encoding="utf-8").count('data-frames="external"') >= 2)
    url = f"{site_url}/{chapter.relative_to(HTML).as_posix()}"
    requested = []
    page, errors, remote = open_page(browser, url, lambda r: requested.append(r.url))
    try:
        explorers = page.locator(".nnp-explorer")
        last = explorers.nth(explorers.count() - 1)
        src = last.locator("script.nnp-frames").get_attribute("data-src")
        page.wait_for_timeout(500)
        below = page.evaluate("el => el.getBoundingClientRect().top > window.innerHeight + 400",
                              last.element_handle())
        assert below, "the last explorer should start far below the first screen"
        assert not any(u.endswith(src.rsplit("/", 1)[-1]) for u in requested), requested
        assert last.get_attribute("data-loaded") is None
        last.scroll_into_view_if_needed()
        expect(last).to_have_attribute("data-loaded", "true", timeout=30_000)
        assert any(u.endswith(src.rsplit("/", 1)[-1]) for u in requested), requested

        slug = last.get_attribute("data-slug")
        slider = last.locator("input[type=range]").first
        slider.focus()
        slider.press("ArrowLeft" if slider.input_value() == slider.get_attribute("max") else "ArrowRight")
        fragment, shown = page.evaluate("location.hash"), last.locator("img.nnp-frame").get_attribute("src")
        assert fragment.startswith(f"#{slug}:")
        fresh, fresh_errors, _ = open_page(browser, url + fragment)
        try:
            target = fresh.locator(f'.nnp-explorer[data-slug="{slug}"]')
            expect(target.locator("img.nnp-frame")).to_have_attribute("src", shown, timeout=30_000)
            assert not fresh_errors, fresh_errors
        finally:
            fresh.close()
        assert not errors and not remote, (errors, remote)
    finally:
        page.close()


def test_home_page_renders(browser, site_url):
    page, errors, remote = open_page(browser, f"{site_url}/book/intro.html")
    try:
        assert "Four Puzzles of Neural Networks" in page.title()
        assert not errors and not remote, (errors, remote)
    finally:
        page.close()


def test_a_setting_travels_in_the_url_fragment(browser, site_url):
    """Moving a static explorer writes its setting into the URL; opening that URL restores it; the
    link button copies it; a fragment with unknown names or values is ignored, never executed."""
    chapter = chapter_pages()[0]
    url = f"{site_url}/{chapter.relative_to(HTML).as_posix()}"
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url, wait_until="load")
        defaults = page.eval_on_selector_all(".nnp-explorer", "els => els.map(e => e.dataset.frame)")
        explorer = page.locator(".nnp-explorer").first
        slug = explorer.get_attribute("data-slug")
        slider = explorer.locator("input[type=range]").first
        slider.focus()
        slider.press("ArrowLeft" if slider.input_value() == slider.get_attribute("max") else "ArrowRight")
        fragment = page.evaluate("location.hash")
        assert fragment.startswith(f"#{slug}:"), fragment
        frame = explorer.get_attribute("data-frame")
        assert frame != defaults[0]
        explorer.locator("button.nnp-link").click()
        page.wait_for_function("document.querySelector('.nnp-link').textContent === 'Link copied'")
        assert page.evaluate("navigator.clipboard.readText()") == url + fragment

        fresh = context.new_page()
        fresh.on("pageerror", lambda e: errors.append(str(e)))
        fresh.goto(url + fragment, wait_until="load")
        frames = fresh.eval_on_selector_all(".nnp-explorer", "els => els.map(e => e.dataset.frame)")
        assert frames == [frame, *defaults[1:]]  # that explorer restored, the others untouched

        hostile = context.new_page()
        hostile.on("pageerror", lambda e: errors.append(str(e)))
        hostile.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        bad = f"#{slug}:" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E=1;nope=2;=%22;alert(1)"
        hostile.goto(url + bad, wait_until="load")
        frames = hostile.eval_on_selector_all(".nnp-explorer", "els => els.map(e => e.dataset.frame)")
        assert frames == defaults and hostile.locator('img[src="x"]').count() == 0
        assert not errors, errors
    finally:
        context.close()


def test_explorer_controls_follow_the_dark_theme(browser, site_url):
    """In dark mode the preset and link buttons take the theme's text colour on a transparent
    background (not light text on light grey)."""
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/{chapter_pages()[0].relative_to(HTML).as_posix()}", wait_until="load")
        page.evaluate("document.documentElement.dataset.theme = 'dark'")
        colours = page.evaluate("""() => {
            const root = document.querySelector('.nnp-explorer');
            const button = root.querySelector('button.nnp-preset'), style = getComputedStyle(button);
            return [style.color, getComputedStyle(root).color, style.backgroundColor];
        }""")
        assert colours[0] == colours[1] and colours[2] in ("rgba(0, 0, 0, 0)", "transparent"), colours
    finally:
        page.close()


AXE = ROOT / "js" / "node_modules" / "axe-core" / "axe.min.js"  # from the npm lock file (make vendor)


def audited_pages() -> list[str]:
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if "_static" not in p.parts and p.name != "index.html")  # index.html only redirects


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("path", audited_pages())
def test_no_serious_accessibility_violation(browser, site_url, path, mode):
    """axe-core's WCAG 2 A/AA rules on every page, in light and in dark mode: nothing serious or critical."""
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/{path}", wait_until="load")
        page.evaluate(f"document.documentElement.dataset.theme = document.documentElement.dataset.mode = '{mode}'")
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate("""async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}))
            .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; ')}`)""")
        assert not violations, violations
    finally:
        page.close()
