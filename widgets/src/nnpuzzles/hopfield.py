"""Plumbing shared by the Hopfield chapters of Part I (the algorithms stay in the chapters).

* :func:`random_patterns`: random ±1 memories, optionally diluted (a fraction of zeros);
* :func:`score_table`: mean ± std of cross-validation scores as a fixed-width text table, sorted
  by mean rank (ties share the average rank), printed the same on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["random_patterns", "score_table"]


def random_patterns(n_patterns: int, n_neurons: int, rng: np.random.Generator,
                    dilution: float = 0.0) -> np.ndarray:
    """``n_patterns × n_neurons`` random patterns of ±1 (float), each bit ±1 with probability ½.

    With ``dilution`` d > 0 each entry is instead 0 with probability d and ±1 with probability
    (1 − d)/2 each (the diluted patterns of multitasking networks).
    """
    if n_patterns < 0 or n_neurons < 1:
        raise ValueError(f"need n_patterns >= 0 and n_neurons >= 1, got {n_patterns}, {n_neurons}")
    if not 0.0 <= dilution < 1.0:
        raise ValueError(f"dilution must be in [0, 1), got {dilution}")
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_patterns, n_neurons))
    if dilution > 0:
        signs = signs * (rng.random((n_patterns, n_neurons)) >= dilution)
    return signs


def score_table(scores: Mapping[str, Mapping[str, Sequence[float]]], digits: int = 3) -> str:
    """A text table: one row per model, one ``mean ± std`` column per data set.

    ``scores[dataset][model]`` holds the per-fold scores. Rows are ordered by the mean rank of
    each model over the data sets (best first; models with equal mean scores on a data set share
    the average of their ranks, ``scipy.stats.rankdata(method="average")``); the last column is
    that mean rank.
    """
    from scipy.stats import rankdata

    datasets = list(scores)
    if not datasets:
        raise ValueError("no data sets")
    models = list(scores[datasets[0]])
    for dataset in datasets:
        if list(scores[dataset]) != models:
            raise ValueError(f"data set {dataset!r} has models {list(scores[dataset])}, expected {models}")
    ranks = {model: [] for model in models}
    for dataset in datasets:
        means = np.array([np.mean(scores[dataset][m]) for m in models])
        for model, rank in zip(models, rankdata(-means.round(12), method="average"), strict=True):
            ranks[model].append(float(rank))
    mean_rank = {model: float(np.mean(r)) for model, r in ranks.items()}
    ordered = sorted(models, key=lambda m: mean_rank[m])  # equal mean ranks keep the given order
    name_width = max(len("model"), *(len(m) for m in models))
    cell = digits * 2 + 7
    header = "model".ljust(name_width) + "".join(f"  {d[:cell]:>{cell}}" for d in datasets) + "  mean rank"
    lines = [header, "-" * len(header)]
    for model in ordered:
        cells = "".join(
            f"  {np.mean(scores[d][model]):.{digits}f} ± {np.std(scores[d][model]):.{digits}f}".rjust(cell + 2)
            for d in datasets
        )
        lines.append(model.ljust(name_width) + cells + f"  {mean_rank[model]:9.2f}")
    return "\n".join(lines)
