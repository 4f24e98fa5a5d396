"""The reproduction ledger: each chapter's claims about a paper, measured over seeds and asserted.

A chapter states a reproduced result in a hidden cell::

    claim("ch01-alpha-inf", "The 50 % retrieval point extrapolated to N → ∞",
          paper="α_c ≈ 0.138", source="Amit et al. 1985 (replica-symmetric theory)",
          values=alpha_inf,                 # one number per seed
          expect=(0.123, 0.153),            # where the mean must lie (derived from the spread)
          verdict="reproduced")

:func:`claim` asserts that the mean over seeds lies in ``expect`` (so a failing claim fails
nbval and the seed-shift check) and prints one line ``LEDGER {...}`` of JSON. The book's page
``book/ledger.md`` is generated from those stored lines by ``tools/make_ledger.py``; a test fails
when the page is not what the notebooks' outputs give. Paired comparisons pass the per-seed
differences (``a − b`` on the same seeds); a fraction of seeds passes 0/1 values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np

VERDICTS = ("reproduced", "partly", "not reproduced")
PREFIX = "LEDGER "


def summary(values: Sequence[float]) -> dict:
    """Mean, sample sd, n and the 95 % t-interval of the mean of ``values`` (finite numbers)."""
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"values must be a non-empty sequence of finite numbers, got {values!r}")
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
    if x.size > 1:
        from scipy.stats import t

        half = float(t.ppf(0.975, x.size - 1)) * sd / math.sqrt(x.size)
    else:
        half = math.inf
    return {"n": int(x.size), "mean": mean, "sd": sd, "ci95": (mean - half, mean + half)}


def mean_sd(values: Sequence[float], digits: int = 3) -> str:
    """``"0.937 ± 0.021"``: the mean and sample sd of ``values``, for a printed line.

    A mean that rounds to zero prints as ``0.000``, never ``-0.000`` (the format's ``z`` option).
    """
    s = summary(values)
    return f"{s['mean']:z.{digits}f} ± {s['sd']:.{digits}f}"


def paired(a: Sequence[float], b: Sequence[float]) -> dict:
    """A paired comparison of two methods run on the same seeds: the differences ``a − b``.

    Returns :func:`summary` of the differences plus ``wins`` (seeds where a > b) and ``n``.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same shape, got {a.shape} and {b.shape}")
    diff = a - b
    return summary(diff) | {"wins": int((diff > 0).sum()), "diff": diff}


def _r(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 4)


def claim(key: str, claim: str, *, paper: str, source: str, values: Sequence[float],
          expect: tuple[float, float], verdict: str, why: str = "", unit: str = "") -> dict:
    """Assert one reproduced claim over seeds and print its ledger line (see the module doc).

    ``key`` is ``chNN-name``; ``expect = (low, high)`` bounds the mean over seeds; ``verdict`` is
    one of :data:`VERDICTS` and needs ``why`` unless it is ``"reproduced"``.
    """
    if not (isinstance(key, str) and len(key) > 5 and key[:2] == "ch" and key[2:4].isdigit() and key[4] == "-"):
        raise ValueError(f"key must look like 'ch01-name', got {key!r}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    if verdict != "reproduced" and not why:
        raise ValueError(f"a verdict of {verdict!r} needs a reason (why=...)")
    low, high = (float(v) for v in expect)
    if not low <= high:
        raise ValueError(f"expect must be (low, high) with low <= high, got {expect!r}")
    s = summary(values)
    row = {
        "key": key, "chapter": int(key[2:4]), "claim": claim, "paper": paper, "source": source,
        "n": s["n"], "mean": _r(s["mean"]), "sd": _r(s["sd"]),
        "ci95": [_r(s["ci95"][0]), _r(s["ci95"][1])], "expect": [low, high],
        "verdict": verdict, "why": why, "unit": unit,
    }
    print(PREFIX + json.dumps(row, ensure_ascii=False, sort_keys=True))
    assert low <= s["mean"] <= high, (
        f"{key}: mean {s['mean']:.4f} over {s['n']} seeds is outside the asserted [{low}, {high}]")
    return row


def rows_from_outputs(outputs: Sequence[dict]) -> list[dict]:
    """The ledger rows in a notebook cell's stored outputs (stream text lines ``LEDGER {...}``)."""
    rows = []
    for output in outputs:
        if output.get("output_type") != "stream":
            continue
        text = output.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        rows += [json.loads(line[len(PREFIX):]) for line in text.splitlines() if line.startswith(PREFIX)]
    return rows
