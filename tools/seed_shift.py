"""Re-execute chapters with every seed shifted and report each assertion that fails.

    python tools/seed_shift.py [--shifts 1 2 3] [--jobs 2] [NOTEBOOK ...]   (default: every chapter)

``make seeds`` runs it. Each (shift, notebook) pair is executed in a fresh kernel with the book's
pinned numerical environment and ``NNPUZZLES_SEED_SHIFT=<shift>``, so every seed the chapter uses
(through ``nnpuzzles.repro``) is replaced by an independent one. The stored notebooks are never
touched: executed copies go to ``_build/seed-shift/shift-<k>/``. Printed numbers differ from the
stored ones, as they should; what must not differ is the verdict of the chapter's hidden
assertions and ledger claims. Every cell that raised is listed (execution goes on past an error,
so one failing claim does not hide the next), and the results are merged into
``book/_data/seed-shift.json``, which the ledger page shows. Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "seed-shift"
DATA = ROOT / "book" / "_data" / "seed-shift.json"


def chapter_notebooks() -> list[Path]:
    from nnpuzzles import bookfiles

    return bookfiles.chapter_notebooks(ROOT)


def run_one(path: str, shift: int, out: Path = OUT) -> dict:
    """Execute one notebook under one shift in a fresh kernel; return its failures and ledger.

    Only the kernel gets the shift (this process's environment is left as it is).
    """
    import nbformat
    from nbclient import NotebookClient
    from nnpuzzles.explorer import STATIC_FRAMES_ENV
    from nnpuzzles.ledger import rows_from_outputs
    from nnpuzzles.repro import SEED_SHIFT_ENV, kernel_environment

    env = kernel_environment() | {SEED_SHIFT_ENV: str(shift)}
    env.pop(STATIC_FRAMES_ENV, None)  # the assertions are what matters here: explorers show the live view only
    nb_path = Path(path).resolve()
    nb = nbformat.read(nb_path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(nb_path.parent)}},
                            record_timing=False, store_widget_state=False)
    start = time.perf_counter()
    client.execute(env=env)
    seconds = time.perf_counter() - start
    failures, ledger = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        ledger += [{"key": r["key"], "mean": r["mean"], "sd": r["sd"], "n": r["n"]}
                   for r in rows_from_outputs(cell.outputs)]
        for output in cell.outputs:
            if output.get("output_type") == "error":
                failures.append({
                    "cell": index,
                    "hidden": "remove-cell" in cell.metadata.get("tags", []),
                    "error": f"{output['ename']}: {output['evalue']}".splitlines()[0][:300],
                })
    target = Path(out) / f"shift-{shift}" / nb_path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    name = nb_path.relative_to(ROOT) if nb_path.is_relative_to(ROOT) else nb_path
    return {"notebook": str(name), "shift": shift, "seconds": round(seconds, 1),
            "failures": failures, "ledger": ledger}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="chapter notebooks (default: all)")
    parser.add_argument("--shifts", type=int, nargs="+", default=[1, 2, 3], help="seed shifts (>= 1)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once")
    args = parser.parse_args(argv)
    if any(s < 1 for s in args.shifts):
        parser.error("--shifts must be integers >= 1 (shift 0 is the stored run, checked by nbval)")
    notebooks = [Path(p).resolve() for p in args.notebooks] or chapter_notebooks()
    jobs = [(str(p), s) for s in args.shifts for p in notebooks]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_one, *zip(*jobs, strict=True)))
    sys.path.insert(0, str(ROOT / "tools"))
    import make_ledger  # the ledger page shows the seed-shift results
    from execute_notebooks import data_lock

    today = datetime.date.today().isoformat()
    failed = 0
    for r in results:
        status = "ok" if not r["failures"] else f"{len(r['failures'])} failed"
        print(f"shift {r['shift']}  {Path(r['notebook']).stem:<36} {r['seconds']:6.1f} s  {status}")
        for f in r["failures"]:
            where = "hidden" if f["hidden"] else "visible"
            print(f"        cell {f['cell']} ({where}): {f['error']}")
        failed += bool(r["failures"])
    with data_lock():  # other runs may write the same files
        data = json.loads(DATA.read_text()) if DATA.exists() else {}
        for r in results:
            data.setdefault(r["notebook"], {})[str(r["shift"])] = {
                "passed": not r["failures"], "date": today, "seconds": r["seconds"],
                "failures": [f["error"] for f in r["failures"]], "ledger": r["ledger"]}
        DATA.parent.mkdir(parents=True, exist_ok=True)
        DATA.write_text(json.dumps(dict(sorted(data.items())), indent=1, ensure_ascii=False) + "\n")
        make_ledger.main([])
    print(f"{len(results) - failed} of {len(results)} shifted runs passed every assertion "
          f"(shifts {', '.join(map(str, args.shifts))}); executed copies in {OUT.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
