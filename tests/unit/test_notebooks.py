"""Static checks of the committed chapter notebooks (nbval re-executes them separately)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nnpuzzles.bookfiles import chapter_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = chapter_notebooks(ROOT)
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info", "rise"}


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def markdown(nb) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executed_top_to_bottom_without_errors_or_stderr(path):
    nb = load(path)
    counts = [c["execution_count"] for c in code_cells(nb) if "".join(c["source"]).strip()]
    assert None not in counts, "code cells without outputs: run tools/execute_notebooks.py"
    assert counts == list(range(1, len(counts) + 1)), "not executed top to bottom in one fresh kernel"
    for cell in code_cells(nb):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", "stored error output"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), \
                f"stderr in stored output: {''.join(output['text'])[:200]}"
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            assert "Warning" not in text, f"a warning in a stored output: {text[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_metadata_is_generic(path):
    nb = load(path)
    assert set(nb["metadata"]) <= ALLOWED_NOTEBOOK_METADATA, set(nb["metadata"]) - ALLOWED_NOTEBOOK_METADATA
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "version" not in nb["metadata"]["language_info"], "machine-specific Python version"
    for cell in nb["cells"]:
        assert "execution" not in cell["metadata"], "per-cell timing metadata"
        assert "slideshow" in cell["metadata"], "every cell needs slide metadata (tools/execute_notebooks.py)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_claims_are_asserted_in_hidden_cells(path):
    hidden = [c for c in code_cells(load(path)) if "remove-cell" in c["metadata"].get("tags", [])]
    assert hidden, "no hidden assertion cell (tag remove-cell)"
    assert sum("".join(c["source"]).count("assert ") for c in hidden) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_figures_have_alt_text_and_explorers_are_tagged(path):
    for cell in code_cells(load(path)):
        tags = cell["metadata"].get("tags", [])
        for output in cell["outputs"]:
            data = output.get("data", {})
            if "image/png" in data or "image/svg+xml" in data:
                alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
                assert len(alt) > 20, f"figure without alt text in cell: {''.join(cell['source'])[:80]}"
            if "nnp-explorer" in "".join(data.get("text/html", "")):
                assert "nbval-ignore-output" in tags, "explorer cells need the nbval-ignore-output tag"
        assert "nbval-skip" not in tags, "do not skip cells: later cells may depend on them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_teaching_apparatus(path):
    nb = load(path)
    text = markdown(nb)
    assert nb["cells"][0]["source"][0].startswith("# "), "a chapter opens with its title"
    for needed in ["Learning objectives", "Think!", "```{exercise}", "```{solution}", "## Summary",
                   "## References", "```{bibliography}", "{cite"]:
        assert needed in text, f"missing: {needed}"
    assert ":list: bullet" in text, "chapter bibliographies are bullet lists (citations link to References)"
    explorers = sum("nnp-explorer" in "".join(o.get("data", {}).get("text/html", ""))
                    for c in code_cells(nb) for o in c["outputs"])
    assert explorers >= 1, "every chapter has at least one explorer"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_teaching_page_names_every_explorer_and_preset(path):
    """A lecturer's plan must name the explorers and presets the chapter really has."""
    plan = (ROOT / "book" / "teaching.md").read_text(encoding="utf-8")
    section = path.relative_to(ROOT).with_suffix("").as_posix()
    assert f"{{doc}}`../{section}`" in plan, f"book/teaching.md has no lecture plan linking {section}"
    from lab_driver import stored_explorers  # the lab test reads the stored explorers the same way

    explorers = [(e["title"], e["presets"]) for e in stored_explorers(path)]
    assert explorers and all(presets for _, presets in explorers), "no stored explorer with presets found"
    for title, presets in explorers:
        assert f'"{title}"' in plan, f"book/teaching.md does not name the explorer {title!r}"
        missing = [p for p in presets if f"*{p}*" not in plan]
        assert not missing, f"book/teaching.md does not name the presets {missing} of {title!r}"


# Seeds reach the chapters only through nnpuzzles.repro, so the seed switch shifts all of them.
RAW_SEEDING = re.compile(r"default_rng\(|\.manual_seed\(|torch\.manual_seed|np\.random\.seed\(|"
                         r"random\.seed\(|RandomState\(|random_state\s*=\s*\d")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_seed_goes_through_the_seed_switch(path):
    for cell in code_cells(load(path)):
        source = "".join(cell["source"])
        hits = RAW_SEEDING.findall(source)
        assert not hits, (f"seed with nnpuzzles.repro (seed_everything, rng, generator, shifted) so that "
                          f"NNPUZZLES_SEED_SHIFT reaches it, not {hits}: {source[:120]}")


NUMBER = re.compile(r"(?<![\w.^_{])\d+\.\d+|\d\s?%")


def solutions(nb) -> tuple[list[str], list[list[dict]]]:
    """The text of plain ``{solution}`` directives, and the cells between gated solution-start/end."""
    plain, gated, inside = [], [], None
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for block in re.findall(r"`{3,}\{solution\}.*?\n(.*?)\n`{3,}", source, flags=re.S):
                plain.append(block)
            if "{solution-start}" in source:
                inside = [cell]
                gated.append(inside)
            elif inside is not None:
                inside.append(cell)
            if "{solution-end}" in source:
                inside = None
        elif inside is not None:
            inside.append(cell)
    return plain, gated


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_state_only_computed_numbers(path):
    """A solution that states a measured number computes it: a gated solution with a code cell."""
    plain, gated = solutions(load(path))
    for text in plain:
        found = NUMBER.findall(text)
        assert not found, (f"a plain {{solution}} states numbers {found}: make it a gated solution "
                           f"(solution-start/solution-end) whose code cell prints them: {text[:160]}")
    for cells in gated:
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(c["outputs"] for c in code), "a gated solution needs an executed code cell"
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        printed = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                          for c in code for o in c["outputs"])
        for number in re.findall(r"(?<![\w.^_{])\d+\.\d+", prose):
            assert number in printed, (f"the solution's prose states {number}, which its code cells "
                                       f"do not print: {prose[:160]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_claims_are_in_the_ledger_and_the_summary_links_it(path):
    from nnpuzzles.ledger import rows_from_outputs

    nb = load(path)
    rows = [r for c in code_cells(nb) for r in rows_from_outputs(c["outputs"])]
    assert rows, "no ledger claim (nnpuzzles.ledger.claim in a hidden cell)"
    hidden_rows = [r for c in code_cells(nb) if "remove-cell" in c["metadata"].get("tags", [])
                   for r in rows_from_outputs(c["outputs"])]
    assert len(hidden_rows) == len(rows), "ledger claims belong in hidden (remove-cell) cells"
    keys = [r["key"] for r in rows]
    assert len(set(keys)) == len(keys), f"duplicate ledger keys: {keys}"
    assert all(r["n"] >= 5 for r in rows), [(r["key"], r["n"]) for r in rows if r["n"] < 5]
    summary = next((c for c in nb["cells"] if c["cell_type"] == "markdown"
                    and "".join(c["source"]).lstrip().startswith("## Summary")), None)
    assert summary is not None and "book/ledger" in "".join(summary["source"]), \
        "the Summary links the reproduction ledger ({doc}`/book/ledger`)"


# "mean ± sd" as prose writes it (also $a \pm b$) and as the chapters print it
SPREAD = re.compile(r"(\d+(?:\.\d+)?)\s*(?:±|\\pm)\s*(\d+(?:\.\d+)?)")


def printed_text(nb) -> str:
    """Everything the chapter's cells printed (streams and text results)."""
    return "\n".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                     for c in code_cells(nb) for o in c.get("outputs", []))


def spreads_missing(prose: str, printed: str) -> list[str]:
    """The "a ± b" of ``prose`` that no printed "A ± B" gives, with A and B rounded to a's and b's digits."""
    have = set(SPREAD.findall(printed))

    def shown(a: str, b: str) -> bool:
        digits = [len(x.partition(".")[2]) for x in (a, b)]
        return any(float(a) == round(float(A), digits[0]) and float(b) == round(float(B), digits[1])
                   for A, B in have)
    return [f"{a} ± {b}" for a, b in SPREAD.findall(prose) if not shown(a, b)]


def test_the_spread_check_sees_a_stale_number():
    printed = "IMP: 0.823 ± 0.147\nsteps 32.0 ± 8.4\ngap +0.0053 ± 0.0058"
    assert spreads_missing("IMP keeps 0.885 ± 0.020; 32 ± 8 steps; $+0.0053 \\pm 0.0058$; 0.82 ± 0.15",
                           printed) == ["0.885 ± 0.020"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_spread_the_prose_states_is_printed(path):
    """Re-executing a chapter changes its printed numbers; its prose must change with them."""
    nb = load(path)
    missing = spreads_missing(markdown(nb), printed_text(nb))
    assert not missing, f"the prose states {missing}, which no cell of the chapter prints (stale?)"


def test_every_spread_the_teaching_notes_state_is_printed():
    printed = "\n".join(printed_text(load(p)) for p in NOTEBOOKS)
    missing = spreads_missing((ROOT / "book" / "teaching.md").read_text(encoding="utf-8"), printed)
    assert not missing, f"book/teaching.md states {missing}, which no chapter prints (stale?)"
