"""Batched instability analysis (chapter 11) and warm-started Lanczos (chapter 12)."""

import numpy as np
import pytest
import torch
from nnpuzzles import pruning, seed_everything
from nnpuzzles.nets import Ensemble, mlp, train, train_ensemble
from nnpuzzles.sharpness import HessianOperator, hessian_vector_product, top_eigenvalue
from torch import nn


def _data(n=120, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 8, generator=gen)
    return X, (X[:, 0] > 0).long() + (X[:, 1] > 0).long()


def _nets(seeds):
    out = []
    for s in seeds:
        seed_everything(s)
        out.append(mlp([8, 16, 3]))
    return out


def test_ensemble_snapshots_and_barriers_match_single_networks():
    X, y = _data()
    recipe = dict(lr=0.1, batch_size=16, momentum=0.9)
    ens = Ensemble(_nets([0, 1]))
    snaps = pruning.EnsembleSnapshots(ens, [0, 5])
    train_ensemble(ens, X, y, [3, 3], epochs=1, after_step=snaps, **recipe)
    single = _nets([1])[0]
    ref = pruning.StepSnapshots(single, [0, 5])
    train(single, X, y, epochs=1, seed=3, after_step=ref, **recipe)
    for k in (0, 5):
        state = pruning.member_state(snaps.states[k], 1)
        for name, value in ref.states[k].items():
            torch.testing.assert_close(state[name], value, rtol=1e-5, atol=1e-6)

    a, b = _nets([0, 1]), _nets([2, 3])
    for net_a, net_b, s in zip(a, b, (4, 5), strict=True):
        train(net_a, X, y, epochs=2, seed=s, **recipe)
        train(net_b, X, y, epochs=2, seed=s + 2, **recipe)
    ts, errors, barriers = pruning.ensemble_error_barriers(Ensemble(a), Ensemble(b), X, y, n_points=5)
    assert errors.shape == (2, 5) and barriers.shape == (2,)
    for k in range(2):
        ts1, e1, b1 = pruning.error_barrier(a[k], b[k], X, y, n_points=5)
        np.testing.assert_allclose(errors[k], e1, atol=1e-6)
        assert barriers[k] == pytest.approx(b1, abs=1e-6)
    np.testing.assert_allclose(ts, ts1)


def test_hessian_vector_product_equals_operator_and_warm_lanczos_is_tight():
    X, y = _data(seed=1)
    model = _nets([0])[0].double()
    Y = nn.functional.one_hot(y, 3).double()

    def loss_fn(m):
        return 0.5 * ((m(X.double()) - Y) ** 2).sum(dim=1).mean()

    v = torch.randn(sum(p.numel() for p in model.parameters()), dtype=torch.float64)
    torch.testing.assert_close(hessian_vector_product(model, loss_fn, v), HessianOperator(model, loss_fn) @ v)
    exact, vec = top_eigenvalue(model, loss_fn, method="lanczos", tol=1e-10)
    warm, _ = top_eigenvalue(model, loss_fn, method="lanczos", v0=vec + 0.05 * v / v.norm(), ncv=6, tol=1e-6)
    assert warm == pytest.approx(exact, rel=1e-5)
