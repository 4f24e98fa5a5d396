"""A real browser (Debian Chromium via Playwright) over the built book, served on 127.0.0.1.

Every chapter page: no console errors, MathJax rendered, and every static explorer's slider
and presets move its figure.
"""

from __future__ import annotations

import pytest
from built_site import HTML, chapter_pages


def open_page(browser, url):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    remote = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:")) else None)
    page.goto(url, wait_until="load")
    return page, errors, remote


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
            moved = image.get_attribute("src")
            assert moved != before, f"explorer {k}: the slider did not change the figure"
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


def test_home_page_renders(browser, site_url):
    page, errors, remote = open_page(browser, f"{site_url}/book/intro.html")
    try:
        assert "Four Puzzles of Neural Networks" in page.title()
        assert not errors and not remote, (errors, remote)
    finally:
        page.close()
