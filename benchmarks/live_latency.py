"""How fast do the live explorers respond? (``make benchmark``; a measurement, not a test.)

For every live explorer in every chapter notebook (or the notebooks named on the command line):

(a) **in-kernel step**: the notebook is executed with nbclient; then, in the same kernel, every
    ``nnpuzzles.Explorer`` with a live view is found and each of its parameters is driven through
    ~30 values *via its live control*; ``explorer.step_times`` holds the seconds of each step
    (values set, artists updated, figure drawn, PNG encoded), and the explorer's blit renderer
    counts the steps that redrew only the changed artists.
(b) **keypress to new pixels** in a real JupyterLab in a real browser: the notebook is run with
    Restart Kernel and Run All, ArrowRight is pressed on each slider, and the page measures with
    ``performance.now()`` from the keydown to the image's new ``src`` (MutationObserver) and to the
    new frame decoded and painted (the next animation frame).

Prints a table (median, p90), writes book/_data/latency.json and regenerates the status page
from it (tools/make_status.py). Targets: (a) median <= 30 ms, (b) median <= 100 ms.

    python benchmarks/live_latency.py [NOTEBOOK ...] [--presses 30] [--skip-kernel] [--skip-lab]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))

from lab_driver import (  # noqa: E402 - the shared lab-driving code lives with the lab test
    LabServer,
    NotebookPage,
    chapter_notebooks,
    launch_browser,
)

OUT = ROOT / "book" / "_data" / "latency.json"
TARGETS_MS = {"in_kernel_median": 30, "keypress_to_pixels_median": 100}

#: Runs in the notebook's own kernel after its last cell: drive every live explorer's controls.
PROBE = r"""
import gc as _nnp_gc
import json as _nnp_json

import numpy as _nnp_np
from nnpuzzles import Explorer as _NnpExplorer
from nnpuzzles import Slider as _NnpSlider


def _nnp_back_and_forth(values, n):
    while len(values) < n:  # few values: go back and forth over them
        values = values + values[-2::-1]
    return values[:n]


def _nnp_values(explorer, param, n):
    if not isinstance(param, _NnpSlider):
        return [param.options[i % len(param.options)] for i in range(n)]
    if param.grid_only:  # the live slider moves over the static grid only
        return _nnp_back_and_forth(list(explorer._grids()[param.name]), n)
    if param.scale == "log":
        values = _nnp_np.geomspace(param.min, param.max, n)
    else:
        values = _nnp_np.linspace(param.min, param.max, n)
    if param.integer:
        return [int(v) for v in _nnp_back_and_forth(sorted({int(round(v)) for v in values}), n)]
    return [float(v) for v in values]


def _nnp_probe(n):
    explorers = [o for o in _nnp_gc.get_objects() if isinstance(o, _NnpExplorer) and o._live is not None]
    rows = []
    for explorer in explorers:
        for name, param in explorer.params.items():
            control = explorer._live.controls[name]
            start, blits = len(explorer.step_times), explorer._blitter.blits
            for value in _nnp_values(explorer, param, n):
                control.value = value
            errors = "".join(o.get("text", "") for o in explorer._live.output.outputs)
            rows.append({"explorer": explorer.title, "parameter": param.text,
                         "seconds": explorer.step_times[start:], "errors": errors,
                         "blitted": explorer._blitter.blits - blits})
    print("NNP-PROBE " + _nnp_json.dumps(rows))


_nnp_probe(__N__)
"""


def stats(values_ms: list[float]) -> dict | None:
    if not values_ms:
        return None
    ordered = sorted(values_ms)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"n": len(ordered), "median": round(statistics.median(ordered), 1), "p90": round(p90, 1)}


def in_kernel(notebook: Path, presses: int) -> list[dict]:
    """(a): execute with nbclient, then drive every live explorer in the same kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE.replace("__N__", str(presses))))
    # allow_errors: a failing cell (e.g. a hidden assertion) is the tests' business; measure anyway.
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(notebook.parent)}})
    client.execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                print(f"  ! {notebook.name}: {output['ename']}: {output['evalue'][:200]}")
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    line = next(x for x in text.splitlines() if x.startswith("NNP-PROBE "))
    rows = json.loads(line[len("NNP-PROBE "):])
    for row in rows:
        if row["errors"]:
            print(f"  ! {row['explorer']} / {row['parameter']}: the explorer showed an error:\n{row['errors']}")
    return rows


def in_lab(browser, server: LabServer, notebook: Path, presses: int) -> list[dict]:
    """(b): keypress to new pixels, per slider, in JupyterLab."""
    page = NotebookPage.open(browser, server, notebook)
    rows = []
    try:
        page.restart_and_run_all(timeout=1200)
        errors = page.cell_errors()
        if errors:
            print(f"  ! {page.path}: error outputs after Run All:\n" + "\n".join(e[-1500:] for e in errors))
        for explorer in page.explorers():
            title = explorer.title
            for handle in explorer.sliders():
                label = explorer.slider_label(handle)
                timings, unchanged = [], 0
                for _ in range(presses):
                    timing = explorer.press_and_time(handle, explorer.step_direction(handle))
                    if timing is None:
                        unchanged += 1
                    else:
                        timings.append(timing)
                if unchanged:
                    print(f"  {title} / {label}: {unchanged} of {presses} presses gave no new frame "
                          "(identical figure, or an error)")
                errors = explorer.output_errors()
                if errors:
                    print(f"  ! {title} / {label}: the explorer showed an error:\n{errors[0][-1500:]}")
                rows.append({"explorer": title, "parameter": label, "timings": timings})
    finally:
        page.close()
    return rows


def table(rows: list[dict]) -> str:
    head = (f"{'notebook':<44} {'explorer':<34} {'parameter':<18} "
            f"{'kernel med':>10} {'p90':>7} {'key→px med':>10} {'p90':>7}")
    lines = [head, "-" * len(head)]

    def cell(entry, key):
        return "—" if not entry else f"{entry[key]:.1f}"

    for row in rows:
        kernel, keys = row.get("in_kernel_ms"), row.get("keypress_to_pixels_ms")
        lines.append(
            f"{Path(row['notebook']).name[:44]:<44} {row['explorer'][:34]:<34} {row['parameter'][:18]:<18} "
            f"{cell(kernel, 'median'):>10} {cell(kernel, 'p90'):>7} {cell(keys, 'median'):>10} {cell(keys, 'p90'):>7}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from nnpuzzles.repro import pin_kernel_environment

    pin_kernel_environment()  # the kernels it starts run with the book's numerical environment
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    parser.add_argument("--presses", type=int, default=30, help="steps per parameter (default 30)")
    parser.add_argument("--skip-kernel", action="store_true", help="skip (a), the in-kernel steps")
    parser.add_argument("--skip-lab", action="store_true", help="skip (b), keypress to pixels in JupyterLab")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or chapter_notebooks()
    load_before = os.getloadavg()[0]
    started = time.monotonic()

    merged: dict[tuple, dict] = {}

    def entry(notebook: Path, explorer: str, parameter: str) -> dict:
        key = (notebook.relative_to(ROOT).as_posix(), explorer, parameter)
        return merged.setdefault(key, {"notebook": key[0], "explorer": explorer, "parameter": parameter})

    if not args.skip_kernel:
        for notebook in notebooks:
            print(f"(a) in-kernel steps: {notebook.relative_to(ROOT)}", flush=True)
            for row in in_kernel(notebook, args.presses):
                target = entry(notebook, row["explorer"], row["parameter"])
                target["in_kernel_ms"] = stats([1000 * s for s in row["seconds"]])
                target["steps_blitted"] = row["blitted"]  # the others were redrawn in full

    if not args.skip_lab:
        from playwright.sync_api import sync_playwright

        with tempfile.TemporaryDirectory(prefix="nnp-lab-") as workdir, \
                LabServer(ROOT, Path(workdir)) as server, sync_playwright() as playwright:
            browser = launch_browser(playwright)
            try:
                for notebook in notebooks:
                    print(f"(b) keypress to pixels in JupyterLab: {notebook.relative_to(ROOT)}", flush=True)
                    for row in in_lab(browser, server, notebook, args.presses):
                        target = entry(notebook, row["explorer"], row["parameter"])
                        target["keypress_to_pixels_ms"] = stats([t["paint_ms"] for t in row["timings"]])
                        target["keypress_to_src_ms"] = stats([t["src_ms"] for t in row["timings"]])
            finally:
                browser.close()

    rows = sorted(merged.values(), key=lambda r: (r["notebook"], r["explorer"], r["parameter"]))
    print()
    print(table(rows))
    result = {
        "measured": datetime.date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "minutes": round((time.monotonic() - started) / 60, 1),
        },
        "targets_ms": TARGETS_MS,
        "steps_per_parameter": args.presses,
        "rows": rows,
    }
    if args.out.exists() and (args.skip_kernel or args.skip_lab or args.notebooks):
        # A partial run updates its rows and keeps the others.
        old = json.loads(args.out.read_text())
        kept = {(r["notebook"], r["explorer"], r["parameter"]): r for r in old.get("rows", [])}
        for row in rows:
            key = (row["notebook"], row["explorer"], row["parameter"])
            kept[key] = {**kept.get(key, {}), **row}
        result["rows"] = sorted(kept.values(), key=lambda r: (r["notebook"], r["explorer"], r["parameter"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if args.out == OUT:  # the status page shows this file: keep it in step
        sys.path.insert(0, str(ROOT / "tools"))
        import make_status

        make_status.main([])


if __name__ == "__main__":
    main()
