"""The numerical environment and the seed switch (nnpuzzles.repro)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nnpuzzles import repro
from nnpuzzles.nets import digits_tensors, mlp, train


@pytest.fixture
def shift(monkeypatch):
    def set_shift(k):
        monkeypatch.setenv(repro.SEED_SHIFT_ENV, str(k))
    monkeypatch.delenv(repro.SEED_SHIFT_ENV, raising=False)
    return set_shift


def draws():
    """One draw from every seeded source the chapters use."""
    g = repro.seed_everything(3)
    model = mlp([4, 3, 2])
    return (g.random(), repro.rng(3).random(), float(torch.rand(1, generator=repro.generator(3))),
            float(model[0].weight[0, 0].detach()), float(torch.rand(1)), float(np.random.rand()))  # noqa: NPY002


def test_no_shift_uses_seeds_as_written(shift):
    assert repro.shifted(7) == 7 and repro.seed_shift() == 0
    shift(0)
    assert repro.shifted(7) == 7
    assert repro.rng(5).random() == np.random.default_rng(5).random()
    plain = torch.Generator().manual_seed(5)
    assert torch.equal(torch.rand(3, generator=repro.generator(5)), torch.rand(3, generator=plain))


def test_a_shift_changes_every_seeded_source(shift):
    base = draws()
    shift(1)
    one = draws()
    assert all(a != b for a, b in zip(base, one, strict=True)), (base, one)
    shift(2)
    assert draws() != one
    shift(1)
    assert draws() == one  # a shift is itself reproducible


def test_shifted_seeds_are_distinct_and_valid(shift):
    shift(3)
    values = [repro.shifted(s) for s in range(200)]
    assert len(set(values)) == 200 and all(0 <= v < 2**31 for v in values)
    assert set(values).isdisjoint(range(200))


def test_shift_reaches_data_splits_and_data_order(shift):
    X_tr, y_tr, *_ = digits_tensors(seed=0)
    torch.manual_seed(0)
    model = mlp([64, 10])
    state = {k: v.clone() for k, v in model.state_dict().items()}

    def one_epoch(seed):  # same data, same initial weights: only train()'s data order can differ
        model.load_state_dict(state)
        return train(model, X_tr, y_tr, epochs=1, seed=seed)[0]

    loss = one_epoch(4)
    assert one_epoch(4) == loss
    shift(1)
    assert not torch.equal(digits_tensors(seed=0)[0], X_tr)  # the train/test split moved
    assert one_epoch(4) != loss  # the data order moved


@pytest.mark.parametrize("bad", ["x", "-1", "1.5"])
def test_bad_shift_is_a_clear_error(shift, bad):
    shift(bad)
    with pytest.raises(ValueError, match=repro.SEED_SHIFT_ENV):
        repro.shifted(0)


def test_seeds_helper():
    assert repro.seeds(3) == [0, 1, 2] and repro.seeds(2, start=10) == [10, 11]
    with pytest.raises(ValueError, match="n must be"):
        repro.seeds(0)


def test_kernel_environment_pins_kernels_and_threads():
    env = repro.kernel_environment({"OPENBLAS_CORETYPE": "Zen", "MKL_CBWR": "AUTO", "HOME": "/x"})
    assert env["ATEN_CPU_CAPABILITY"] == "avx2" and env["OMP_NUM_THREADS"] == "1" and env["HOME"] == "/x"
    # the machine's own kernel choices are overridden: MKL's vendor-neutral branch, OpenBLAS's AVX2 set
    assert env["MKL_CBWR"] == "COMPATIBLE,STRICT" and env["OPENBLAS_CORETYPE"] == "Haswell"


def test_kernels_started_by_the_tests_run_pinned():
    """conftest.py pins the environment: a kernel nbval starts uses the pinned kernels, 1 thread."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, torch, numpy, threadpoolctl\n"
        "from numpy._core._multiarray_umath import __cpu_features__ as f\n"
        "print(torch.backends.cpu.get_cpu_capability(), os.environ['OMP_NUM_THREADS'],"
        " os.environ['MKL_CBWR'], {i['internal_api']: i.get('architecture') for i in"
        " threadpoolctl.threadpool_info()}.get('openblas'),"
        " f.get('X86_V4', False), f.get('AVX512_ICL', False))")]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    text = nb.cells[0].outputs[0]["text"]
    assert text.split()[:4] == ["AVX2", "1", "COMPATIBLE,STRICT", "Haswell"], text
    assert text.strip().endswith("False False"), text


def test_exact_sqrt_is_the_correctly_rounded_square_root():
    exact_sqrt = repro.exact_sqrt
    x = torch.rand(100_003, generator=torch.Generator().manual_seed(0)) * 10
    x[:3] = torch.tensor([0.0, 1.0, 4.0])
    root = exact_sqrt(x)
    assert root.dtype == torch.float32 and root.shape == x.shape
    assert np.array_equal(root.numpy(), np.sqrt(x.numpy()))  # NumPy's float32 sqrt is IEEE, exact
    assert exact_sqrt(x.double()).dtype == torch.float64
    t = torch.tensor([4.0, 9.0], requires_grad=True)
    exact_sqrt(t).sum().backward()  # differentiable: d sqrt(t) / dt = 1 / (2 sqrt(t))
    assert torch.allclose(t.grad, torch.tensor([0.25, 1 / 6]))
