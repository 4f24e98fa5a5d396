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
from .repro import generator as seeded_generator
from .repro import shifted

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
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=shifted(seed), stratify=y)
    return (torch.from_numpy(X_tr), torch.from_numpy(y_tr), torch.from_numpy(X_te), torch.from_numpy(y_te))


def make_optimizer(name: str, params: list, lr: float, momentum: float = 0.0) -> torch.optim.Optimizer:
    """The book's two optimisers by name: ``"sgd"`` (with optional momentum) or ``"adam"``."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, fused=True)  # torch's own kernel: the same bits on any CPU (see repro)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', got {name!r}")


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
    opt = make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr, momentum)
    generator = seeded_generator(seed)
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


class Ensemble(nn.Module):
    """K independent networks of one architecture, run as one batched model (``torch.func``).

    ``Ensemble([mlp(sizes) for _ in seeds])`` stacks the members' parameters along a new first
    axis (:func:`torch.func.stack_module_state`) and evaluates all members in one call
    (:func:`torch.func.vmap` over :func:`torch.func.functional_call`). An input of shape
    ``(B, d)`` is shared by every member; ``(K, B, d)`` gives each member its own batch. Because
    the members share no parameter, a loss that *sums* the members' losses trains each of them
    exactly as if alone, with any element-wise optimiser (SGD, momentum, Adam).
    """

    def __init__(self, models: Sequence[nn.Module]):
        super().__init__()
        if len(models) < 1:
            raise ValueError("an Ensemble needs at least one model")
        import copy

        params, buffers = torch.func.stack_module_state(list(models))
        self.names = list(params)
        self.stacked = nn.ParameterList([nn.Parameter(params[name].detach().clone()) for name in self.names])
        self.buffers_ = buffers
        self.size = len(models)
        self._base = copy.deepcopy(models[0]).to("meta")

    def param_dict(self) -> dict[str, torch.Tensor]:
        """Parameter name → stacked tensor of shape ``(K, *shape)``."""
        return dict(zip(self.names, self.stacked, strict=True))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        def one(params, buffers, x):
            return torch.func.functional_call(self._base, (params, buffers), (x,))

        in_x = None if X.dim() == 2 else 0
        return torch.func.vmap(one, in_dims=(0, 0, in_x), randomness="different")(
            self.param_dict(), self.buffers_, X)

    def member(self, k: int, template: nn.Module) -> nn.Module:
        """Member ``k`` as an ordinary module: a copy of ``template`` with its parameters."""
        import copy

        model = copy.deepcopy(template)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(self.param_dict()[name][k])
        return model


def train_ensemble(
    ensemble: Ensemble,
    X: torch.Tensor,
    y: torch.Tensor,
    seeds: Sequence[int],
    *,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int | None = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    loss_fn: Callable | None = None,
    after_step: Callable[[Ensemble], None] | None = None,
) -> np.ndarray:
    """Train every member as :func:`train` would, member ``k`` with data order ``seeds[k]``.

    Returns the members' mean training loss per epoch, shape ``(epochs, K)``. ``loss_fn`` is a
    per-member loss ``(outputs, targets) -> scalar`` (default cross-entropy), applied with vmap.
    """
    if len(seeds) != ensemble.size:
        raise ValueError(f"need one seed per member: {ensemble.size} members, {len(seeds)} seeds")
    loss_fn = loss_fn or nn.functional.cross_entropy
    opt = make_optimizer(optimizer, list(ensemble.stacked), lr, momentum)
    generators = [seeded_generator(s) for s in seeds]
    n = len(X)
    batch = n if batch_size is None else batch_size
    history = np.zeros((epochs, ensemble.size))
    per_member = torch.func.vmap(loss_fn)
    for epoch in range(epochs):
        if batch < n:
            orders = torch.stack([torch.randperm(n, generator=g) for g in generators])
        else:
            orders = torch.arange(n).expand(ensemble.size, n)
        totals = torch.zeros(ensemble.size)
        for start in range(0, n, batch):
            idx = orders[:, start:start + batch]
            losses = per_member(ensemble(X[idx]), y[idx])
            opt.zero_grad()
            losses.sum().backward()
            opt.step()
            if after_step is not None:
                after_step(ensemble)
            totals += losses.detach() * idx.shape[1]
        history[epoch] = (totals / n).numpy()
    return history


@torch.no_grad()
def ensemble_accuracy(ensemble: Ensemble, X: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Each member's accuracy on (X, y): an array of K fractions."""
    return (ensemble(X).argmax(dim=-1) == y).float().mean(dim=-1).numpy()
