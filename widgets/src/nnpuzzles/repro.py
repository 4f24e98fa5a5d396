"""Reproducibility: the numerical environment, every seed the book uses, and the seed switch.

Four things make a stored number re-execute identically:

* **the numerical environment** (:data:`KERNEL_ENV`): which CPU kernels torch, oneDNN, MKL,
  OpenBLAS and NumPy may use, and how many threads. Every tool that starts a kernel for the book
  (``make execute``, nbval in ``make test``, the seed-shift check, the JupyterLab test, the
  benchmark) calls :func:`pin_kernel_environment` first, so a kernel on an AVX-512 machine runs
  the same AVX2 code paths as one on an AVX2 machine. Readers' own kernels are not pinned: the
  book's text never depends on digits another machine would change;
* **every seed goes through this module**: :func:`seed_everything`, :func:`rng` (NumPy),
  :func:`generator` (torch) and :func:`shifted` (for a library's ``random_state``);
* **operations whose result depends on the processor** are avoided: torch computes a float32
  ``sqrt`` of more than a few elements (and ``cdist``, ``atan``, ``log10``) with MKL's vector math,
  whose last bit differs between Intel and AMD whatever the pin; :func:`exact_sqrt` is the
  replacement, and ``torch.optim.Adam`` is used with ``fused=True`` (its kernel is torch's own);
* **the seed switch**: ``NNPUZZLES_SEED_SHIFT=k`` (k ≥ 1) maps every seed ``s`` to an
  independent seed derived from ``(k, s)``, so a chapter re-executed under a shift draws new
  data, initialisations and orders everywhere. With no shift (or 0) seeds are used as written.
"""

from __future__ import annotations

import os
import random

import numpy as np

SEED_SHIFT_ENV = "NNPUZZLES_SEED_SHIFT"

# The numerical environment of every kernel the book's tools start (see CONTRIBUTING.md).
KERNEL_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",    # torch's own vectorised kernels: AVX2 even where AVX-512 exists
    "ONEDNN_MAX_CPU_ISA": "AVX2",     # oneDNN (torch's convolutions, some matmuls)
    "DNNL_MAX_CPU_ISA": "AVX2",       # the same, older name
    # MKL (torch's BLAS) honours an ISA branch only on Intel CPUs: with MKL_CBWR=AVX2 an AMD EPYC
    # still takes its own path and sums in another order. COMPATIBLE (SSE2) is the one branch MKL
    # runs the same way on Intel and AMD; STRICT makes it independent of the arrays' alignment.
    "MKL_CBWR": "COMPATIBLE,STRICT",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # NumPy 2.4's AVX-512 dispatch targets
    "OMP_NUM_THREADS": "1",           # one thread everywhere: reductions keep one order
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OPENBLAS_CORETYPE": "Haswell",   # OpenBLAS (NumPy's and SciPy's BLAS): the AVX2 kernel set on any CPU
    "PYTHONHASHSEED": "0",
}


def kernel_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the book's numerical settings added."""
    return dict(os.environ if base is None else base) | KERNEL_ENV


def pin_kernel_environment() -> None:
    """Set :data:`KERNEL_ENV` in this process, so every kernel it starts inherits it."""
    os.environ.update(kernel_environment())


def exact_sqrt(t):
    """``sqrt(t)`` for a torch tensor, correctly rounded, hence the same bits on every processor.

    ``torch.sqrt`` of a float32 tensor with more than 15 elements goes to MKL's vector math, which
    is accurate to 1 ulp, not correctly rounded, and rounds differently on Intel and AMD (about one
    element in five is 1 ulp off on an AMD EPYC). Taken in float64 (error under 1 float64 ulp) and
    rounded back, the result is the correctly rounded float32 square root: a float32 square root is
    never that close to the midpoint of two float32 numbers. Differentiable; any float dtype.
    """
    import torch

    if t.dtype == torch.float64:  # no wider type to go to: float64 results are not used bitwise
        return torch.sqrt(t)
    return torch.sqrt(t.double()).to(t.dtype)


def seed_shift() -> int:
    """The seed switch: the integer in ``NNPUZZLES_SEED_SHIFT`` (0 when unset)."""
    text = os.environ.get(SEED_SHIFT_ENV, "").strip()
    if not text:
        return 0
    try:
        shift = int(text)
    except ValueError:
        raise ValueError(f"{SEED_SHIFT_ENV} must be an integer >= 0, got {text!r}") from None
    if shift < 0:
        raise ValueError(f"{SEED_SHIFT_ENV} must be an integer >= 0, got {shift}")
    return shift


def shifted(seed: int) -> int:
    """The seed actually used for ``seed``: itself, or under a shift an independent 31-bit seed."""
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    shift = seed_shift()
    if shift == 0:
        return seed
    return int(np.random.SeedSequence([shift, seed]).generate_state(1)[0] >> 1)


def rng(seed: int) -> np.random.Generator:
    """A NumPy generator for ``seed`` (shifted by the seed switch)."""
    return np.random.default_rng(shifted(seed))


def generator(seed: int):
    """A torch generator for ``seed`` (shifted by the seed switch)."""
    import torch

    return torch.Generator().manual_seed(shifted(seed))


def seed_everything(seed: int = 0, threads: int = 1) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) PyTorch, fix the thread count, return :func:`rng`.

    One thread keeps small-model results bit-identical across runs and is not slower for the
    book's small models. The seed is shifted by the seed switch like every other.
    """
    used = shifted(seed)
    random.seed(used)
    np.random.seed(used)  # noqa: NPY002 - also seed legacy global-state code
    try:
        import torch
    except ImportError:  # torch is optional for the Hopfield chapters
        pass
    else:
        torch.manual_seed(used)
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(used)


def seeds(n: int, start: int = 0) -> list[int]:
    """``n`` seeds for a repeated experiment: ``start, …, start + n − 1`` (each shifted where used)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return list(range(start, start + n))
