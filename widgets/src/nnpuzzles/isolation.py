"""Plumbing for chapter 8 (isolation methods): one sub-network per task behind one model.

The Part II harness (:mod:`nnpuzzles.continual`) evaluates a model by calling ``model(X)`` and,
in task-incremental learning, taking the argmax over the units of the task being tested. An
isolation method (a supermask per task, a hypernetwork, …) computes a *different* network for
every task, so :class:`TaskRouted` runs every trained task's sub-network and writes each one's
output into its own task's units: reading task ``j``'s units is then exactly "use the task
identity ``j``". While task ``t`` is being learned only its sub-network runs.

The methods themselves (how a sub-network is computed and trained) live in the chapter.

Example::

    class OnePerTask(TaskRouted):
        def __init__(self, stream):
            super().__init__(stream)
            self.nets = nn.ModuleList(mlp([64, 100, self.n_out]) for _ in stream)

        def subnet(self, X, t):
            return self.nets[t](X)

    def train_task(model, ctx):
        with model.learning(ctx.i):
            ctx.fit(model)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .continual import TaskStream

__all__ = ["TaskRouted", "count_parameters"]


class TaskRouted(nn.Module):
    """A model holding one sub-network per task of ``stream``, routed by output units.

    Subclasses define ``subnet(X, t)``, the logits of task ``t``'s network over all
    ``n_out`` units. ``forward`` returns, for every task trained so far, its sub-network's
    values on that task's own units (zeros elsewhere); inside ``with model.learning(t):`` it
    runs task ``t``'s sub-network only.
    """

    def __init__(self, stream: TaskStream) -> None:
        super().__init__()
        self.units = [torch.as_tensor(task.classes) for task in stream]
        self.n_tasks = len(stream)
        self.n_out = stream.n_global
        self.active: int | None = None
        self.trained = 0

    def subnet(self, X: torch.Tensor, t: int) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError("a TaskRouted model must define subnet(X, t)")

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.active is not None:
            return self.subnet(X, self.active)
        out = torch.zeros(len(X), self.n_out, dtype=X.dtype)
        for t in range(self.trained):
            out[:, self.units[t]] = self.subnet(X, t)[:, self.units[t]]
        return out

    @contextmanager
    def learning(self, t: int) -> Iterator[None]:
        """Within the block only task ``t``'s sub-network runs; afterwards it counts as trained."""
        if not 0 <= t < self.n_tasks:
            raise ValueError(f"task must be an integer in [0, {self.n_tasks - 1}], got {t!r}")
        self.active = t
        try:
            yield
        finally:
            self.active = None
            self.trained = max(self.trained, t + 1)


def count_parameters(*tensors_or_modules) -> int:
    """Number of scalars in the given tensors and modules (all parameters of a module)."""
    total = 0
    for item in tensors_or_modules:
        if isinstance(item, nn.Module):
            total += sum(p.numel() for p in item.parameters())
        else:
            total += int(item.numel())
    return total
