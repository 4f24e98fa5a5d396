"""Write book/status.md from the measurements committed with the book.

    python tools/make_status.py           # rewrite book/status.md
    python tools/make_status.py --check   # exit 1 if book/status.md is stale

Inputs (both committed):
* book/_data/execution-times.json: written by tools/execute_notebooks.py (``make execute``):
  ``{"chapters/...ipynb": seconds}`` or ``{"chapters/...ipynb": {"seconds": s, "date": "YYYY-MM-DD"}}``;
* book/_data/latency.json: written by benchmarks/live_latency.py (``make benchmark``);
* book/_data/page-load.json: written by benchmarks/page_load.py (``make benchmark``).

The page depends on nothing else (no clock, no git, no notebook contents), so
tests/unit/test_status.py can check that the committed page is what this script writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "book" / "_data"
PAGE = ROOT / "book" / "status.md"
NOTEBOOK_LIMIT_S = 90
BOOK_LIMIT_MIN = 12
DEFAULT_TARGETS_MS = {"in_kernel_median": 30, "keypress_to_pixels_median": 100}
OK, OVER = "✓", "✗ over"

sys.path.insert(0, str(ROOT / "widgets" / "src"))
from nnpuzzles import bookfiles  # noqa: E402


def _load(name: str) -> dict:
    path = DATA / name
    return json.loads(path.read_text()) if path.exists() else {}


def _chapter(path: str) -> str:
    """`chapters/part1-remembering/01-classical-hopfield.ipynb` -> `01-classical-hopfield`."""
    return Path(path).stem


def _part(path: str) -> str:
    parts = Path(path).parts
    return parts[1] if len(parts) > 2 else ""


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def execution_section(times: dict) -> list[str]:
    lines = ["## Notebook execution", ""]
    if not times:
        return lines + ["No execution time recorded yet (`make execute` records them).", ""]
    lines += [
        "Each chapter re-executed top to bottom in a fresh kernel, by `make execute` or by nbval in the "
        "last full `make test` run (imported with `tools/execute_notebooks.py --from-nbval`; there the "
        "other core runs the JupyterLab test at the same time) "
        f"(target: ≤ {NOTEBOOK_LIMIT_S} s per notebook, ≤ {BOOK_LIMIT_MIN} min for the book, on the "
        "2-core test machine).",
        "",
        "| Part | Notebook | Execution time | Date | Within target |",
        "| --- | --- | ---: | --- | --- |",
    ]
    total = 0.0
    for path, value in sorted(times.items()):
        seconds = value["seconds"] if isinstance(value, dict) else value
        date = value.get("date", "") if isinstance(value, dict) else ""
        total += seconds
        mark = OK if seconds <= NOTEBOOK_LIMIT_S else OVER
        lines.append(f"| {_cell(_part(path))} | `{_cell(_chapter(path))}` | {seconds:.1f} s | {date or '—'} | {mark} |")
    mark = OK if total <= BOOK_LIMIT_MIN * 60 else OVER
    lines += ["", f"**Whole book: {total / 60:.1f} min** for {len(times)} notebooks "
              f"(target ≤ {BOOK_LIMIT_MIN} min) {mark}", ""]
    return lines


def _ms(entry: dict | None, target: float | None = None) -> str:
    if not entry:
        return "—"
    text = f"{entry['median']:.1f} ({entry['p90']:.1f})"
    if target is not None:
        text += " " + (OK if entry["median"] <= target else OVER)
    return text


def latency_section(latency: dict) -> list[str]:
    lines = ["## Live explorer latency", ""]
    rows = latency.get("rows", [])
    if not rows:
        return lines + ["No latency measured yet (`make benchmark` measures it).", ""]
    targets = {**DEFAULT_TARGETS_MS, **latency.get("targets_ms", {})}
    machine = latency.get("machine", {})
    context = [f"measured {latency.get('measured', '—')}"]
    if "cpus" in machine:
        context.append(f"{machine['cpus']} CPUs")
    if "load_average_1min_before" in machine:
        context.append(f"1-min load average {machine['load_average_1min_before']} before the run "
                       f"and {machine.get('load_average_1min_after', '—')} after")
    steps = latency.get("steps_per_parameter")
    lines += [
        "Milliseconds, **median (p90)**"
        + (f" over {steps} steps per parameter" if steps else "")
        + f"; {', '.join(context)}. "
        f"*In-kernel step*: a value set through the live control, the figure's artists updated, the figure "
        f"drawn and encoded as PNG (target: median ≤ {targets['in_kernel_median']} ms). "
        f"*Keypress → pixels*: ArrowRight on the slider in JupyterLab in a real browser until the new frame "
        f"is decoded and painted (target: median ≤ {targets['keypress_to_pixels_median']} ms). "
        "Choices (toggle buttons) have no keypress measurement. "
        "*Blitted*: steps that redrew only the artists the update changed, over cached layers "
        "(`nnpuzzles.blit`); the others were full redraws (new view limits, or a new artist changed).",
        "",
        "| Notebook | Explorer | Parameter | In-kernel step | Blitted | Keypress → pixels |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        kernel = row.get("in_kernel_ms")
        blitted = row.get("steps_blitted")
        blitted = "—" if blitted is None or not kernel else f"{blitted}/{kernel['n']}"
        lines.append(
            f"| `{_cell(_chapter(row['notebook']))}` | {_cell(row['explorer'])} | {_cell(row['parameter'])} | "
            f"{_ms(kernel, targets['in_kernel_median'])} | {blitted} | "
            f"{_ms(row.get('keypress_to_pixels_ms'), targets['keypress_to_pixels_median'])} |"
        )
    return lines + [""]


def page_load_section(load: dict) -> list[str]:
    lines = ["## Page load on a slow connection", ""]
    rows = load.get("rows", [])
    if not rows:
        return lines + ["No page load measured yet (`make benchmark` measures it).", ""]
    profiles, targets = load.get("profiles", {}), load.get("targets_s", {})
    limit = load.get("max_html_kb", 500)

    def seconds(value, target):
        return f"{value:.2f} {OK if target is None or value <= target else OVER}"

    described = "; ".join(f"{name}: {p['rtt_ms']:g} ms round trip" for name, p in profiles.items())
    lines += [
        f"Seconds, median of {load.get('repeats', '—')} cold loads in Chromium (cache off, the "
        f"network throttled: {described}; the site served gzip-compressed, as a static host does), "
        f"measured {load.get('measured', '—')}. *Ready* is DOMContentLoaded, when the maths is "
        "typeset; explorer frames load later, when an explorer nears the viewport. Targets: HTML ≤ "
        f"{limit} kB, " + ", ".join(f"ready ≤ {t:g} s at {n}" for n, t in targets.items()) + ".",
        "",
        "| Chapter | HTML (kB) | " + " | ".join(f"Ready at {n} | Load at {n}" for n in profiles) + " |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in profiles) + " |",
    ]
    for row in rows:
        html_kb = f"{row['html_kb']:.0f} {OK if row['html_kb'] <= limit else OVER}"
        lines.append(f"| {_cell(row['chapter'])} | {html_kb} | " + " | ".join(
            f"{seconds(row[n]['ready'], targets.get(n))} | {row[n]['load']:.2f}" for n in profiles) + " |")
    return lines + [""]


def render(times: dict | None = None, latency: dict | None = None, load: dict | None = None) -> str:
    times = _load("execution-times.json") if times is None else times
    latency = _load("latency.json") if latency is None else latency
    load = _load("page-load.json") if load is None else load
    lines = [
        "# Build and performance status",
        "",
        "<!-- Generated by tools/make_status.py from book/_data/*.json: do not edit by hand. -->",
        "",
        "What it costs to run this book, measured rather than promised. The tables are generated by "
        "`python tools/make_status.py` from data committed with the book: notebook execution times "
        "recorded by `make execute` (`book/_data/execution-times.json`) and the live explorers' "
        "latency and the pages' load times measured by `make benchmark` (`book/_data/latency.json`, "
        "`book/_data/page-load.json`). A test fails if this page "
        "is not what the script would write from that data.",
        "",
        *execution_section(times),
        *latency_section(latency),
        *page_load_section(load),
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    return bookfiles.write_generated_page(PAGE, render, "Write book/status.md from book/_data/*.json.", argv)


if __name__ == "__main__":
    sys.exit(main())
