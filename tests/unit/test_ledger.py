"""The reproduction ledger: claims asserted over seeds, and the generated page."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from nnpuzzles import ledger

ROOT = Path(__file__).resolve().parents[2]


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_claim(values, expect=(0.1, 0.2), **kw):
    args = dict(paper="0.138", source="Amit et al. 1985", values=values, expect=expect, verdict="reproduced")
    return ledger.claim("ch01-test", "a claim", **(args | kw))


def test_claim_prints_its_row_and_passes(capsys):
    row = make_claim([0.13, 0.14, 0.15, 0.14, 0.14])
    line = capsys.readouterr().out.strip()
    assert line.startswith(ledger.PREFIX) and json.loads(line[len(ledger.PREFIX):]) == row
    assert row["n"] == 5 and row["mean"] == 0.14 and row["sd"] == pytest.approx(0.0071, abs=1e-4)
    lo, hi = row["ci95"]
    assert lo < 0.14 < hi and hi - lo == pytest.approx(2 * 2.776 * 0.00707 / 5**0.5, abs=2e-4)
    outputs = [{"output_type": "stream", "name": "stdout", "text": line + "\n"}]
    assert ledger.rows_from_outputs(outputs) == [row]


def test_claim_fails_when_the_mean_leaves_the_interval():
    with pytest.raises(AssertionError, match=r"ch01-test: mean 0\.3000 over 5 seeds is outside"):
        make_claim([0.3] * 5)


@pytest.mark.parametrize(("kw", "message"), [
    (dict(verdict="maybe"), "verdict must be one of"),
    (dict(verdict="partly"), "needs a reason"),
    (dict(expect=(0.2, 0.1)), "low <= high"),
    (dict(values=[]), "non-empty"),
    (dict(values=[0.1, float("nan")]), "finite"),
])
def test_claim_rejects_bad_input(kw, message):
    with pytest.raises(ValueError, match=message):
        make_claim(kw.pop("values", [0.15] * 5), **kw)


def test_bad_key():
    with pytest.raises(ValueError, match="key must look like"):
        ledger.claim("capacity", "c", paper="p", source="s", values=[1.0], expect=(0, 2), verdict="reproduced")


def test_paired_and_mean_sd():
    p = ledger.paired([0.9, 0.95, 0.97], [0.9, 0.9, 0.95])
    assert p["wins"] == 2 and p["mean"] == pytest.approx(0.0233, abs=1e-4)
    np.testing.assert_allclose(p["diff"], [0.0, 0.05, 0.02], atol=1e-12)
    assert ledger.mean_sd([1.0, 2.0, 3.0], digits=2) == "2.00 ± 1.00"
    assert ledger.mean_sd([-0.0, -0.0]) == "0.000 ± 0.000"  # no "-0.000"
    assert ledger.mean_sd([-2e-5, 1e-5]) == "0.000 ± 0.000"
    assert ledger.mean_sd([-0.002, -0.001]) == "-0.002 ± 0.001"
    with pytest.raises(ValueError, match="same shape"):
        ledger.paired([1.0], [1.0, 2.0])


def test_committed_ledger_page_is_what_the_notebooks_give():
    make_ledger = load_tool("make_ledger")
    assert (ROOT / "book" / "ledger.md").read_text(encoding="utf-8") == make_ledger.render(), (
        "book/ledger.md is stale: run `python tools/make_ledger.py` (make execute does) and commit it")


def test_ledger_page_lists_every_chapter_with_its_claims():
    make_ledger = load_tool("make_ledger")
    page = make_ledger.render()
    for path in make_ledger.chapter_notebooks():
        title, rows = make_ledger.notebook_rows(path)
        assert f"## {title}" in page
        assert rows, f"{path.stem} records no ledger claim"
        for row in rows:
            assert row["claim"].replace("|", "\\|") in page
