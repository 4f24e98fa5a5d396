"""Static checks of the committed chapter notebooks (nbval re-executes them separately)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
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
