"""Sharpness: the measuring instrument of Part IV (Lurching).

*Sharpness* is the largest eigenvalue :math:`\\lambda_{\\max}` of the Hessian of the training loss
with respect to the parameters. The Hessian of even a small network has ~10⁴–10⁵ rows, so it is
never formed: a Hessian-vector product :math:`Hv` costs about two gradients (differentiate
:math:`g(\\theta)\\cdot v` once more), and the top eigenvalue follows from a few dozen of them by
power iteration or by Lanczos (``scipy.sparse.linalg.eigsh``).

Chapter 12 teaches :func:`hessian_vector_product` (it prints its source) and writes a short power
iteration with it; :class:`HessianOperator` is the same product with the gradient graph built once
for many products, and :func:`top_eigenvalue` the tested eigensolver the chapters use for long runs.

Example::

    def loss_fn(model):
        return 0.5 * ((model(X) - Y) ** 2).sum(dim=1).mean()

    lam, v = top_eigenvalue(model, loss_fn, iters=20)           # power iteration
    lam, v = top_eigenvalue(model, loss_fn, method="lanczos")   # Lanczos (ARPACK)
    lam, v = top_eigenvalue(model, loss_fn, iters=5, v0=v)      # warm start, a few steps later
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .repro import exact_sqrt
from .repro import generator as seeded_generator

__all__ = [
    "HessianOperator",
    "hessian_vector_product",
    "top_eigenvalue",
    "ADAM_BETAS",
    "ADAM_EPS",
    "preconditioner",
    "adam_preconditioner",
    "preconditioned_top_eigenvalue",
]


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p for p in model.parameters() if p.requires_grad]


class HessianOperator:
    """The Hessian of ``loss_fn(model)`` at the model's current parameters, as a linear map.

    The gradient is computed once with ``create_graph=True``; every product :math:`Hv` then is one
    extra backward pass through that graph. Build a new operator after the parameters change.
    """

    def __init__(self, model: nn.Module, loss_fn: Callable[[nn.Module], torch.Tensor]) -> None:
        self.params = _params(model)
        loss = loss_fn(model)
        grads = torch.autograd.grad(loss, self.params, create_graph=True)
        self.grad = torch.cat([g.reshape(-1) for g in grads])
        self.dim = self.grad.numel()
        self.dtype = self.grad.dtype
        self.n_products = 0

    def __matmul__(self, v: torch.Tensor) -> torch.Tensor:
        v = v.detach().to(self.dtype).reshape(-1)
        if v.numel() != self.dim:
            raise ValueError(f"v must have {self.dim} entries (one per parameter), got {v.numel()}")
        hv = torch.autograd.grad(self.grad @ v, self.params, retain_graph=True)
        self.n_products += 1
        return torch.cat([h.reshape(-1) for h in hv]).detach()


def hessian_vector_product(
    model: nn.Module, loss_fn: Callable[[nn.Module], torch.Tensor], v: torch.Tensor
) -> torch.Tensor:
    """H v for the Hessian of loss_fn(model) w.r.t. all parameters (v is a flat vector)."""
    params = _params(model)
    grads = torch.autograd.grad(loss_fn(model), params, create_graph=True)  # keep the graph
    g = torch.cat([x.reshape(-1) for x in grads])
    hv = torch.autograd.grad(g @ v.to(g.dtype), params)  # d(g . v)/d(theta) = H v
    return torch.cat([x.reshape(-1) for x in hv])


def top_eigenvalue(
    model: nn.Module,
    loss_fn: Callable[[nn.Module], torch.Tensor],
    *,
    iters: int = 20,
    v0: torch.Tensor | None = None,
    tol: float = 1e-4,
    method: str = "power",
    seed: int = 0,
    ncv: int | None = None,
) -> tuple[float, torch.Tensor]:
    """The largest Hessian eigenvalue (the sharpness) and its unit eigenvector.

    ``method="power"``: power iteration, at most ``iters`` products, stopping early when the
    Rayleigh quotient changes by less than ``tol`` (relative). It converges to the eigenvalue of
    largest *magnitude*; in trained networks that is the top (positive) one. Warm-start with the
    previous eigenvector ``v0`` when the parameters moved only a little.

    ``method="lanczos"``: ``scipy.sparse.linalg.eigsh`` (implicitly restarted Lanczos), which
    targets the algebraically largest eigenvalue and needs fewer products for a tight answer.
    ``ncv`` is the size of its Krylov basis (ARPACK's default 20); warm-started from the previous
    eigenvector during training, ``ncv=6`` usually converges in about 16 products.
    """
    op = HessianOperator(model, loss_fn)
    v = _start_vector(op, v0, seed)
    if method == "lanczos":
        def matvec(x):
            return (op @ torch.as_tensor(np.asarray(x).ravel())).double().numpy()

        return _lanczos_top(matvec, v, tol=tol, maxiter=max(iters, 10) * 10, ncv=ncv)
    if method != "power":
        raise ValueError(f"method must be 'power' or 'lanczos', got {method!r}")
    if iters < 1:
        raise ValueError(f"iters must be at least 1, got {iters}")

    eigenvalue = None
    for _ in range(iters):
        hv = op @ v
        rayleigh = float(v @ hv)
        norm = hv.norm()
        if norm == 0:
            return 0.0, v
        v = hv / norm
        if eigenvalue is not None and abs(rayleigh - eigenvalue) <= tol * abs(rayleigh):
            eigenvalue = rayleigh
            break
        eigenvalue = rayleigh
    return float(eigenvalue), v


def _start_vector(op: HessianOperator, v0: torch.Tensor | None, seed: int) -> torch.Tensor:
    """The unit start vector of an eigen-solver: ``v0`` (a warm start) or a seeded random one."""
    if v0 is None:
        v = torch.randn(op.dim, generator=seeded_generator(seed), dtype=op.dtype)
    else:
        v = v0.detach().to(op.dtype).reshape(-1).clone()
    if v.numel() != op.dim:
        raise ValueError(f"v0 must have {op.dim} entries (one per parameter), got {v.numel()}")
    return v / v.norm()


def _lanczos_top(matvec: Callable, v: torch.Tensor, *, tol: float, maxiter: int, ncv: int | None):
    """ARPACK's implicitly restarted Lanczos for the algebraically largest eigenpair of ``matvec``."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    linop = LinearOperator((v.numel(), v.numel()), matvec=matvec, dtype=np.float64)
    values, vectors = eigsh(linop, k=1, which="LA", v0=v.double().numpy(), tol=tol, maxiter=maxiter, ncv=ncv)
    vec = torch.as_tensor(vectors[:, 0], dtype=v.dtype)
    return float(values[0]), vec / vec.norm()


ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults


def preconditioner(
    exp_avg_sq: torch.Tensor, step: int, betas: tuple[float, float] = ADAM_BETAS, eps: float = ADAM_EPS
) -> torch.Tensor:
    """The diagonal preconditioner P of Adam's next step for one parameter tensor (Cohen et al. 2022).

    Adam steps by ``-lr * m_hat / (sqrt(v_hat) + eps)``; with the bias corrections written out this
    is ``-lr * P^{-1} m`` for ``P = (1 - beta1^t) (sqrt(v_t / (1 - beta2^t)) + eps)``, where
    ``exp_avg_sq`` is Adam's running average ``v_t`` after ``step = t`` steps. The square root is
    :func:`~nnpuzzles.repro.exact_sqrt`, so P has the same bits on every processor.
    """
    if step < 1:
        raise ValueError(f"step must be >= 1 (Adam has taken a step), got {step}")
    beta1, beta2 = betas
    return (1 - beta1**step) * (exact_sqrt(exp_avg_sq / (1 - beta2**step)) + eps)


def adam_preconditioner(optimizer: torch.optim.Optimizer) -> torch.Tensor:
    """:func:`preconditioner` of a ``torch.optim.Adam``'s next step, as one flat vector.

    The entries follow the order of the optimizer's parameters (``model.parameters()`` if it was built
    from them), the order :class:`HessianOperator` uses.
    """
    parts = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state[p]
            if not state:
                raise ValueError("the optimizer has not taken a step yet")
            step = int(state["step"])
            parts.append(preconditioner(state["exp_avg_sq"], step, group["betas"], group["eps"]).reshape(-1))
    return torch.cat(parts).detach()


def preconditioned_top_eigenvalue(
    model: nn.Module,
    loss_fn: Callable[[nn.Module], torch.Tensor],
    precond: torch.Tensor,
    *,
    v0: torch.Tensor | None = None,
    tol: float = 1e-4,
    ncv: int | None = None,
    seed: int = 0,
) -> tuple[float, torch.Tensor]:
    """The largest eigenvalue of ``P^{-1} H`` for a positive diagonal ``P`` (a flat vector), by Lanczos.

    ``P^{-1} H`` is not symmetric, but it has the eigenvalues of the symmetric
    ``P^{-1/2} H P^{-1/2}``, which is what ARPACK is given. This is the *preconditioned sharpness*
    of an adaptive method (with :func:`adam_preconditioner`); ``P = 1`` gives :func:`top_eigenvalue`.
    Returns the eigenvalue and the unit eigenvector of the symmetric form (a warm start ``v0``).
    """
    op = HessianOperator(model, loss_fn)
    scale = precond.detach().to(op.dtype).reshape(-1)
    if scale.numel() != op.dim or bool((scale <= 0).any()):
        raise ValueError(f"precond must have {op.dim} positive entries, got {scale.numel()}")
    scale = scale.rsqrt()

    def matvec(x):
        x = torch.as_tensor(np.asarray(x).ravel()).to(op.dtype)
        return (scale * (op @ (scale * x))).double().numpy()

    return _lanczos_top(matvec, _start_vector(op, v0, seed), tol=tol, maxiter=200, ncv=ncv)
