"""Small PyTorch models and the plain training loop the chapters share.

The chapters teach what happens *around* training (forgetting, pruning, sharpness), so the
loop itself lives here once: mini-batch or full-batch training of a model on tensors, with an
optional hook called after every step (for masks, projections or logging).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .data import load_digits_scaled

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def mlp(sizes: Sequence[int], activation: str = "relu") -> nn.Sequential:
    """A fully connected network, e.g. ``mlp([64, 300, 100, 10])`` (LeNet-300-100 shape)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def digits_tensors(test_size: float = 0.25, seed: int = 0):
    """Scaled digits as a stratified train/test split of tensors: (X_train, y_train, X_test, y_test)."""
    from sklearn.model_selection import train_test_split

    X, y = load_digits_scaled()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    return (torch.from_numpy(X_tr), torch.from_numpy(y_tr), torch.from_numpy(X_te), torch.from_numpy(y_te))


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int | None = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    loss_fn: Callable | None = None,
    seed: int = 0,
    after_step: Callable[[nn.Module], None] | None = None,
    extra_loss: Callable[[nn.Module], torch.Tensor] | None = None,
) -> list[float]:
    """Train ``model`` on (X, y); returns the mean training loss of each epoch.

    ``batch_size=None`` is full-batch gradient descent. ``seed`` fixes the data order.
    ``extra_loss(model)`` is added to the loss (e.g. a regulariser); ``after_step(model)`` runs
    after each optimiser step (e.g. re-applying a pruning mask).
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    generator = torch.Generator().manual_seed(seed)
    n = len(X)
    batch = n if batch_size is None else batch_size
    history = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator) if batch < n else torch.arange(n)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            loss = loss_fn(model(X[idx]), y[idx])
            if extra_loss is not None:
                loss = loss + extra_loss(model)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step(model)
            total += loss.item() * len(idx)
        history.append(total / n)
    return history


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, classes: Sequence[int] | None = None) -> float:
    """Fraction of correct predictions; with ``classes``, the argmax is taken over those only."""
    logits = model(X)
    if classes is not None:
        classes_t = torch.as_tensor(list(classes))
        predicted = classes_t[logits[:, classes_t].argmax(dim=1)]
    else:
        predicted = logits.argmax(dim=1)
    return float((predicted == y).float().mean())


def flat_params(model: nn.Module) -> torch.Tensor:
    """All parameters as one vector (a copy)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def set_flat_params(model: nn.Module, vector: torch.Tensor) -> None:
    """Write a vector from :func:`flat_params` back into the model."""
    torch.nn.utils.vector_to_parameters(vector, model.parameters())


def rounded(value: float, digits: int = 4) -> float:
    """Round for printing, so re-executed notebooks print identical text."""
    return float(np.round(value, digits))
