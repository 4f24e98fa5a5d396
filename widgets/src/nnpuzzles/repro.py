"""Reproducibility: one place that fixes every source of randomness and the thread count."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 0, threads: int = 1) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) PyTorch, fix the thread count, return a Generator.

    One thread keeps small-model results bit-identical across machines and is not slower for
    the book's small models.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - also seed legacy global-state code
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import torch
    except ImportError:  # torch is optional for the Hopfield chapters
        pass
    else:
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)
