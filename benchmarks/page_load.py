"""How fast does a chapter page load on a slow connection? (``make benchmark``; a measurement, not a test.)

The built book (``_build/html``, or ``BOOK_HTML``) is served on 127.0.0.1, gzip-compressed as a
static host serves it, and every chapter page is opened in Debian's Chromium with the cache off and
the network throttled through the DevTools protocol (``Network.emulateNetworkConditions``) to two
profiles:

* 10 Mbit/s down, 5 Mbit/s up, 40 ms round trip (a slow home line);
* 1.6 Mbit/s down, 0.75 Mbit/s up, 150 ms round trip (a phone on 3G).

For each page: the bytes of its HTML (uncompressed), the time to DOMContentLoaded (when the page
is *ready*: the maths is typeset from there) and to the load event, and the compressed bytes the
browser fetched until then (explorer frames load only when an explorer nears the viewport).
Median of ``--repeats`` loads. Targets (issue 15): HTML <= 500 kB, ready <= 1.5 s at 10 Mbit/s and
<= 6 s at 1.6 Mbit/s. A run over every chapter writes book/_data/page-load.json and the status page.

    python benchmarks/page_load.py [--repeats 3] [--chapters 01 02 ...]
"""

from __future__ import annotations

import argparse
import datetime
import functools
import gzip
import http.server
import io
import json
import os
import platform
import statistics
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
sys.path.insert(0, str(ROOT / "tests" / "site"))

from built_site import HTML, chapter_pages  # noqa: E402 - the site tests' paths of the built book
from lab_driver import launch_browser  # noqa: E402 - the one place that knows Chromium's flags

OUT = ROOT / "book" / "_data" / "page-load.json"
PROFILES = {  # name: (down, up in bytes per second, round trip in ms)
    "10 Mbit/s": (10e6 / 8, 5e6 / 8, 40),
    "1.6 Mbit/s": (1.6e6 / 8, 0.75e6 / 8, 150),
}
TARGETS_S = {"10 Mbit/s": 1.5, "1.6 Mbit/s": 6.0}
MAX_HTML_KB = 500


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site as a static host does (GitHub Pages, Read the Docs, nginx): text files
    gzip-compressed when the browser accepts it. Python's own server sends everything raw, and
    the theme's scripts alone (fontawesome.js is 1.4 MB) would then set the time to ready."""

    COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".txt", ".xml")

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if (not path.is_file() or path.suffix not in self.COMPRESSED
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    """A browser that moves on to the next page drops the requests still in flight: not an error."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = QuietServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def load_once(browser, url: str, profile: tuple[float, float, float]) -> dict:
    """One cold load of a page under a throttled network: seconds to ready and load, bytes fetched."""
    down, up, rtt = profile
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": rtt, "downloadThroughput": down, "uploadThroughput": up})
    fetched = []
    cdp.on("Network.loadingFinished", lambda event: fetched.append(event["encodedDataLength"]))
    try:
        page.goto(url, wait_until="load", timeout=180_000)
        timing = page.evaluate("""() => {
            const nav = performance.getEntriesByType("navigation")[0];
            return {ready: nav.domContentLoadedEventEnd / 1000, load: nav.loadEventEnd / 1000};
        }""")
        frames = page.evaluate("document.querySelectorAll('.nnp-explorer[data-loaded]').length")
        return {**timing, "bytes": sum(fetched), "explorers_loaded": frames}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="loads per page and profile (median)")
    parser.add_argument("--chapters", nargs="*", default=None, help="chapter numbers, e.g. 01 02")
    args = parser.parse_args(argv)
    pages = [p for p in chapter_pages() if not args.chapters or p.stem[:2] in args.chapters]
    missing = [p for p in pages if not p.exists()]
    if missing:
        sys.exit(f"build the book first (make book): {missing[0]} is missing")
    server, base = serve(HTML)
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            for page in pages:
                url = f"{base}/{page.relative_to(HTML).as_posix()}"
                row = {"chapter": page.stem, "html_kb": round(page.stat().st_size / 1024, 1)}
                for name, profile in PROFILES.items():
                    runs = [load_once(browser, url, profile) for _ in range(args.repeats)]
                    row[name] = {key: round(statistics.median(r[key] for r in runs), 3)
                                 for key in ("ready", "load", "bytes", "explorers_loaded")}
                    row[name]["ready_spread"] = [round(min(r["ready"] for r in runs), 3),
                                                 round(max(r["ready"] for r in runs), 3)]
                rows.append(row)
                print(f"{row['chapter']:<36} {row['html_kb']:>7.1f} kB  " + "  ".join(
                    f"{name}: ready {row[name]['ready']:.2f} s, load {row[name]['load']:.2f} s, "
                    f"{row[name]['bytes'] / 1024:.0f} kB" for name in PROFILES), flush=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    print("\n| chapter | HTML (kB) | " + " | ".join(
        f"ready at {n} (s) | load at {n} (s)" for n in PROFILES) + " |")
    print("|---|---|" + "---|---|" * len(PROFILES))
    for row in rows:
        print(f"| {row['chapter']} | {row['html_kb']:.0f} | " + " | ".join(
            f"{row[n]['ready']:.2f} | {row[n]['load']:.2f}" for n in PROFILES) + " |")
    worst = {n: max(row[n]["ready"] for row in rows) for n in PROFILES}
    met = all(worst[n] <= TARGETS_S[n] for n in PROFILES) and all(
        row["html_kb"] <= MAX_HTML_KB for row in rows)
    print("\nworst ready: " + ", ".join(f"{worst[n]:.2f} s at {n} (target {TARGETS_S[n]} s)"
                                        for n in PROFILES) + ("; targets met" if met else "; TARGET MISSED"))
    if args.chapters:  # a partial run is printed only: the committed data covers every chapter
        return 0 if met else 1
    OUT.write_text(json.dumps({
        "measured": datetime.date.today().isoformat(),
        "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "profiles": {n: {"down_bytes_per_s": p[0], "up_bytes_per_s": p[1], "rtt_ms": p[2]}
                     for n, p in PROFILES.items()},
        "targets_s": TARGETS_S, "max_html_kb": MAX_HTML_KB, "repeats": args.repeats, "rows": rows,
    }, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    sys.path.insert(0, str(ROOT / "tools"))  # the status page shows this file: keep it in step
    import make_status

    make_status.main([])
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
