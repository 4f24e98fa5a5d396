"""Sharpness by Hessian-vector products, checked against models whose Hessian is known."""

import numpy as np
import pytest
import torch
from nnpuzzles import seed_everything
from nnpuzzles.sharpness import (
    HessianOperator,
    adam_preconditioner,
    hessian_vector_product,
    preconditioned_top_eigenvalue,
    preconditioner,
    top_eigenvalue,
)
from torch import nn


def least_squares(n=200, d=12, bias=False, seed=0):
    """A linear model with loss ½·mean((Xw + b − y)²): its Hessian is AᵀA/n with A = [X, 1]."""
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 3.0, d)  # a spread-out spectrum
    y = rng.normal(size=n)
    model = nn.Linear(d, 1, bias=bias).double()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def loss_fn(m):
        return 0.5 * ((m(Xt).squeeze(1) - yt) ** 2).mean()

    A = np.hstack([X, np.ones((n, 1))]) if bias else X
    return model, loss_fn, A.T @ A / n


@pytest.mark.parametrize("bias", [False, True])
def test_hessian_vector_product_is_exact_for_least_squares(bias):
    model, loss_fn, H = least_squares(bias=bias)
    v = torch.from_numpy(np.random.default_rng(1).normal(size=H.shape[0]))
    hv = hessian_vector_product(model, loss_fn, v).numpy()
    np.testing.assert_allclose(hv, H @ v.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["power", "lanczos"])
@pytest.mark.parametrize("bias", [False, True])
def test_top_eigenvalue_matches_eigvalsh(method, bias):
    model, loss_fn, H = least_squares(bias=bias)
    evals, evecs = np.linalg.eigh(H)
    lam, v = top_eigenvalue(model, loss_fn, iters=500, tol=1e-12, method=method)
    assert lam == pytest.approx(evals[-1], rel=1e-6)
    assert abs(float(v.numpy() @ evecs[:, -1])) == pytest.approx(1.0, abs=1e-4)


def test_warm_start_needs_few_products():
    model, loss_fn, H = least_squares()
    top = np.linalg.eigvalsh(H)[-1]
    lam, v = top_eigenvalue(model, loss_fn, iters=500, tol=1e-12)
    # Starting from the eigenvector, two products already give the eigenvalue.
    lam2, _ = top_eigenvalue(model, loss_fn, iters=2, v0=v)
    assert lam2 == pytest.approx(top, rel=1e-8)


def test_operator_counts_products_and_checks_shape():
    model, loss_fn, H = least_squares()
    op = HessianOperator(model, loss_fn)
    op @ torch.ones(H.shape[0], dtype=torch.float64)
    op @ torch.ones(H.shape[0], dtype=torch.float64)
    assert op.n_products == 2
    with pytest.raises(ValueError, match="entries"):
        op @ torch.ones(3, dtype=torch.float64)


def test_top_eigenvalue_of_a_small_mlp_matches_the_dense_hessian():
    seed_everything(0)
    X = torch.randn(40, 3, dtype=torch.float64)
    Y = torch.randn(40, 2, dtype=torch.float64)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]

    def loss_of(flat):
        chunks = torch.split(flat, sizes)
        w1, b1, w2, b2 = (c.reshape(s) for c, s in zip(chunks, shapes, strict=True))
        out = torch.tanh(X @ w1.T + b1) @ w2.T + b2
        return 0.5 * ((out - Y) ** 2).sum(dim=1).mean()

    flat = torch.cat([p.detach().reshape(-1) for p in params])
    H = torch.autograd.functional.hessian(loss_of, flat).numpy()
    lam, _ = top_eigenvalue(model, lambda m: 0.5 * ((m(X) - Y) ** 2).sum(dim=1).mean(),
                            method="lanczos", tol=1e-10)
    assert lam == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-6)


def test_bad_arguments_raise():
    model, loss_fn, _ = least_squares()
    with pytest.raises(ValueError, match="method"):
        top_eigenvalue(model, loss_fn, method="qr")
    with pytest.raises(ValueError, match="v0"):
        top_eigenvalue(model, loss_fn, v0=torch.ones(3))



@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
def test_adam_preconditioner_is_the_step_adam_takes(betas):
    """theta_{t+1} = theta_t - lr P^{-1} m_t for torch's Adam, with P from its own state."""
    model, loss_fn, H = least_squares(bias=True)
    lr = 1e-2
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=betas, eps=1e-6, fused=True)
    for _ in range(7):
        before = torch.cat([p.detach().clone().reshape(-1) for p in model.parameters()])
        opt.zero_grad()
        loss_fn(model).backward()
        opt.step()
    after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    m = torch.cat([opt.state[p]["exp_avg"].reshape(-1) for p in model.parameters()])
    P = adam_preconditioner(opt)
    torch.testing.assert_close(after - before, -lr * m / P, rtol=1e-9, atol=1e-12)
    # the per-tensor function with the same state and constants gives the same vector
    weight = next(iter(model.parameters()))
    own = preconditioner(opt.state[weight]["exp_avg_sq"], 7, betas, 1e-6).reshape(-1)
    assert torch.equal(own, P[: own.numel()])
    # P^{-1} H has the eigenvalues of P^{-1/2} H P^{-1/2}
    lam, _ = preconditioned_top_eigenvalue(model, loss_fn, P, tol=1e-10)
    scale = 1 / np.sqrt(P.numpy())
    assert lam == pytest.approx(np.linalg.eigvalsh(scale[:, None] * H * scale[None, :])[-1], rel=1e-6)


def test_preconditioner_needs_a_step():
    with pytest.raises(ValueError, match="step"):
        preconditioner(torch.ones(3), 0)
    with pytest.raises(ValueError, match="not taken a step"):
        adam_preconditioner(torch.optim.Adam(nn.Linear(2, 1).parameters(), fused=True))
