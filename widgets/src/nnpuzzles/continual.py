"""The continual-learning harness of Part II: task streams, the accuracy matrix and its metrics.

Every chapter of Part II runs its methods through this one harness, so that two methods differ
only in what the chapter teaches. The pieces:

* **Task streams** built from the scikit-learn digits: :func:`split_digits` (5 tasks of 2 digits)
  and :func:`permuted_digits` (all 10 digits, a fixed pixel permutation per task).
* **Scenarios** (van de Ven & Tolias 2019): ``"task"`` (task-incremental: the task identity is
  known, one output head per task), ``"domain"`` (domain-incremental: one shared head whose
  units are the within-task labels) and ``"class"`` (class-incremental: one head over every
  class seen so far, the task identity is not given).
* :func:`run` trains a *method* over the stream and fills the accuracy matrix ``R[i, j]``
  (accuracy on task ``j`` after training task ``i``). A method is one function the notebook
  writes, ``train_task(model, ctx)``; ``ctx`` (a :class:`TaskContext`) holds the current task,
  its training data in the model's output space, the scenario's loss and
  ``ctx.fit(model, ...)``, a call of :func:`nnpuzzles.nets.train` with the run's settings and
  the ``extra_loss`` / ``after_step`` hooks passed through.
* The metrics of Lopez-Paz & Ranzato (2017): :func:`average_accuracy` (ACC),
  :func:`backward_transfer` (BWT), :func:`forward_transfer` (FWT, against the accuracy ``b`` of
  the randomly initialised model) and :func:`plot_accuracy_matrix`, a heatmap of ``R`` whose
  artists an explorer can update in place.

Labels. Each task has *local* labels ``0..k-1`` and a tuple ``classes`` of *global* output
units. Task- and class-IL train and evaluate on global units (``classes[local]``), domain-IL on
the local labels. For split digits the global units are the digits themselves; for permuted
digits task ``t`` owns units ``10 t … 10 t + 9`` in task- and class-IL.

Example::

    stream = split_digits()
    def finetune(model, ctx):
        ctx.fit(model)                       # plain SGD on the current task only
    result = run(stream, "class", finetune)
    result.R, result.acc, result.bwt, result.fwt
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .nets import mlp, train
from .repro import generator as seeded_generator
from .repro import rng as seeded_rng
from .repro import seed_everything, shifted

__all__ = [
    "SCENARIOS",
    "Task",
    "TaskStream",
    "TaskContext",
    "Result",
    "split_digits",
    "permuted_digits",
    "n_outputs",
    "targets",
    "allowed_units",
    "masked_cross_entropy",
    "evaluate",
    "run",
    "average_accuracy",
    "backward_transfer",
    "forward_transfer",
    "plot_accuracy_matrix",
    "update_accuracy_matrix",
    "default_model",
    "flat",
    "fit_batched",
    "BatchContext",
    "BatchResult",
    "evaluate_batched",
    "run_batched",
]

#: The three scenarios of van de Ven & Tolias (2019).
SCENARIOS = ("task", "domain", "class")


# ---------------------------------------------------------------------------- task streams
@dataclass(frozen=True)
class Task:
    """One task: inputs, local labels ``0..k-1`` and the global output units they map to."""

    index: int
    name: str
    classes: tuple[int, ...]
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    permutation: np.ndarray | None = None

    @property
    def n_local(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class TaskStream:
    """A sequence of tasks; ``n_global`` output units in task- and class-IL, ``n_local`` in domain-IL."""

    name: str
    tasks: tuple[Task, ...]

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    def __getitem__(self, i: int) -> Task:
        return self.tasks[i]

    @property
    def n_global(self) -> int:
        return 1 + max(c for task in self.tasks for c in task.classes)

    @property
    def n_local(self) -> int:
        return max(task.n_local for task in self.tasks)


def _digits_split(test_size: float, seed: int):
    from sklearn.model_selection import train_test_split

    from .data import load_digits_scaled

    X, y = load_digits_scaled()
    return train_test_split(X, y, test_size=test_size, random_state=shifted(seed), stratify=y)


def split_digits(
    n_tasks: int = 5, *, test_size: float = 0.25, seed: int = 0, order: Sequence[int] | None = None
) -> TaskStream:
    """Split digits: the 10 digits in ``n_tasks`` tasks of ``10 // n_tasks`` classes each.

    ``order`` permutes the digits before they are cut into tasks (default 0, 1, …, 9, so the
    tasks are {0, 1}, {2, 3}, …). The train/test split is stratified and fixed by ``seed``.
    """
    order = list(range(10)) if order is None else [int(c) for c in order]
    if sorted(order) != list(range(10)):
        raise ValueError(f"order must be a permutation of the digits 0..9, got {order}")
    if n_tasks < 1 or 10 % n_tasks:
        raise ValueError(f"n_tasks must divide 10 (1, 2, 5 or 10), got {n_tasks}")
    X_tr, X_te, y_tr, y_te = _digits_split(test_size, seed)
    k = 10 // n_tasks
    tasks = []
    for t in range(n_tasks):
        classes = tuple(order[t * k:(t + 1) * k])
        lookup = {c: i for i, c in enumerate(classes)}
        parts = []
        for X, y in ((X_tr, y_tr), (X_te, y_te)):
            keep = np.isin(y, classes)
            local = np.array([lookup[c] for c in y[keep]], dtype=np.int64)
            parts += [torch.from_numpy(X[keep]), torch.from_numpy(local)]
        name = "/".join(str(c) for c in classes)
        tasks.append(Task(t, name, classes, *parts))
    return TaskStream("split digits", tuple(tasks))


def permuted_digits(
    n_tasks: int = 5, *, test_size: float = 0.25, seed: int = 0, identity_first: bool = True
) -> TaskStream:
    """Permuted digits: every task holds all 10 digits with its own fixed pixel permutation.

    The first task is the unpermuted digits when ``identity_first``. Permutations are drawn
    from ``numpy.random.default_rng(seed)``. Task ``t`` owns global units ``10 t … 10 t + 9``.
    """
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be at least 1, got {n_tasks}")
    X_tr, X_te, y_tr, y_te = _digits_split(test_size, seed)
    rng = seeded_rng(seed)
    tasks = []
    for t in range(n_tasks):
        perm = np.arange(64) if (t == 0 and identity_first) else rng.permutation(64)
        classes = tuple(range(10 * t, 10 * t + 10))
        tasks.append(Task(
            t, f"perm {t}", classes,
            torch.from_numpy(np.ascontiguousarray(X_tr[:, perm])), torch.from_numpy(y_tr),
            torch.from_numpy(np.ascontiguousarray(X_te[:, perm])), torch.from_numpy(y_te),
            permutation=perm,
        ))
    return TaskStream("permuted digits", tuple(tasks))


# ---------------------------------------------------------------------------- scenarios
def _check_scenario(scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")


def n_outputs(stream: TaskStream, scenario: str) -> int:
    """Output units the model needs: all global classes, or the local labels in domain-IL."""
    _check_scenario(scenario)
    return stream.n_local if scenario == "domain" else stream.n_global


def targets(task: Task, scenario: str, split: str = "train") -> torch.Tensor:
    """The task's labels in the model's output space (global units, or local in domain-IL)."""
    _check_scenario(scenario)
    y = task.y_train if split == "train" else task.y_test
    if scenario == "domain":
        return y
    return torch.as_tensor(task.classes)[y]


def allowed_units(stream: TaskStream, scenario: str, upto: int) -> torch.Tensor:
    """Boolean matrix ``A[c, u]``: may output unit ``u`` compete for a sample of target ``c``?

    Task-IL: only the units of the sample's own task (a multi-head network). Domain-IL: every
    unit. Class-IL: the units of every class of tasks ``0..upto`` (the classes seen so far).
    """
    _check_scenario(scenario)
    n = n_outputs(stream, scenario)
    if scenario == "domain":
        return torch.ones(n, n, dtype=torch.bool)
    A = torch.zeros(n, n, dtype=torch.bool)
    if scenario == "task":
        for task in stream:
            idx = torch.as_tensor(task.classes)
            A[idx.unsqueeze(1), idx.unsqueeze(0)] = True
    else:
        seen = torch.as_tensor([c for task in stream.tasks[:upto + 1] for c in task.classes])
        A[:, seen] = True
    return A


def masked_cross_entropy(allowed: torch.Tensor) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Cross-entropy in which sample ``n`` competes only over the units ``allowed[y_n]``."""

    def loss_fn(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.masked_fill(~allowed[y], float("-inf")), y)

    return loss_fn


@torch.no_grad()
def evaluate(
    model: nn.Module,
    stream: TaskStream,
    scenario: str,
    j: int,
    upto: int,
    scores: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None,
) -> float:
    """Test accuracy on task ``j`` after training tasks ``0..upto``, under ``scenario``.

    Task-IL: argmax over task ``j``'s units. Domain-IL: argmax over all (local) units.
    Class-IL: argmax over the classes of tasks ``0..max(upto, j)`` (the classes seen so far; a
    future task's own classes are added so that forward transfer is defined).
    ``scores(model, X)`` replaces ``model(X)`` (e.g. a nearest-class-mean classifier).
    """
    task = stream[j]
    y = targets(task, scenario, "test")
    out = (scores or (lambda m, X: m(X)))(model, task.X_test)
    if scenario == "task":
        units = torch.as_tensor(task.classes)
    elif scenario == "domain":
        units = torch.arange(out.shape[1])
    else:
        units = torch.as_tensor([c for t in stream.tasks[:max(upto, j) + 1] for c in t.classes])
    predicted = units[out[:, units].argmax(dim=1)]
    return float((predicted == y).float().mean())


# ---------------------------------------------------------------------------- the run
@dataclass
class TaskContext:
    """What a method sees when it trains task ``i`` (built by :func:`run`)."""

    i: int
    task: Task
    stream: TaskStream
    scenario: str
    X: torch.Tensor
    y: torch.Tensor
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    allowed: torch.Tensor
    epochs: int
    lr: float
    batch_size: int | None
    seed: int
    optimizer: str = "sgd"
    momentum: float = 0.0
    state: dict = field(default_factory=dict)

    @property
    def seen(self) -> tuple[Task, ...]:
        """Tasks ``0..i`` (the current one included)."""
        return self.stream.tasks[:self.i + 1]

    def seen_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All training data of tasks ``0..i`` in output space (for joint / cumulative training)."""
        X = torch.cat([t.X_train for t in self.seen])
        y = torch.cat([targets(t, self.scenario) for t in self.seen])
        return X, y

    def fit(
        self,
        model: nn.Module,
        X: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> list[float]:
        """:func:`nnpuzzles.nets.train` on (X, y) (default: the current task) with this run's
        epochs, lr, batch size, seed and scenario loss; keyword arguments override them and pass
        ``extra_loss`` / ``after_step`` through."""
        settings = dict(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size, seed=self.seed,
                        optimizer=self.optimizer, momentum=self.momentum, loss_fn=self.loss_fn)
        settings.update(kwargs)
        return train(model, self.X if X is None else X, self.y if y is None else y, **settings)


@dataclass
class Result:
    """The outcome of :func:`run`: the accuracy matrix, the random-init baseline and the model."""

    R: np.ndarray
    b: np.ndarray
    scenario: str
    stream_name: str
    model: nn.Module
    state: dict

    @property
    def acc(self) -> float:
        return average_accuracy(self.R)

    @property
    def bwt(self) -> float:
        return backward_transfer(self.R)

    @property
    def fwt(self) -> float:
        return forward_transfer(self.R, self.b)

    def summary(self, digits: int = 4) -> dict[str, float]:
        """ACC, BWT and FWT rounded for printing."""
        return {k: round(float(v), digits) for k, v in (("ACC", self.acc), ("BWT", self.bwt), ("FWT", self.fwt))}


def default_model(n_out: int) -> nn.Module:
    """The Part II network: a 64-100-100-``n_out`` ReLU MLP."""
    return mlp([64, 100, 100, n_out])


def run(
    stream: TaskStream,
    scenario: str,
    train_task: Callable[[nn.Module, TaskContext], Any],
    *,
    model_fn: Callable[[int], nn.Module] = default_model,
    epochs: int = 20,
    lr: float = 0.1,
    batch_size: int | None = 32,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    seed: int = 0,
    scores: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None,
    after_task: Callable[[nn.Module, TaskContext], Any] | None = None,
) -> Result:
    """Train ``train_task(model, ctx)`` on each task in turn and fill ``R[i, j]``.

    The model is ``model_fn(n_outputs(stream, scenario))``, created after
    ``seed_everything(seed)``; its accuracy before any training is the baseline ``b[j]`` of
    forward transfer. ``ctx.state`` is a dict that persists across tasks (for a method's
    memory: a Fisher, a buffer, …); a method may equally keep its state in a closure.
    ``after_task(model, ctx)`` runs after each task's training, before evaluation.
    ``scores(model, X)`` replaces the model's logits at evaluation.
    """
    _check_scenario(scenario)
    seed_everything(seed)
    model = model_fn(n_outputs(stream, scenario))
    T = len(stream)
    b = np.array([evaluate(model, stream, scenario, j, -1, scores) for j in range(T)])
    R = np.zeros((T, T))
    state: dict = {}
    for i, task in enumerate(stream):
        allowed = allowed_units(stream, scenario, i)
        ctx = TaskContext(
            i=i, task=task, stream=stream, scenario=scenario, X=task.X_train, y=targets(task, scenario),
            loss_fn=masked_cross_entropy(allowed), allowed=allowed, epochs=epochs, lr=lr,
            batch_size=batch_size, seed=seed * 1000 + i, optimizer=optimizer, momentum=momentum, state=state,
        )
        model.train()
        train_task(model, ctx)
        if after_task is not None:
            after_task(model, ctx)
        model.eval()
        R[i] = [evaluate(model, stream, scenario, j, i, scores) for j in range(T)]
    return Result(R=R, b=b, scenario=scenario, stream_name=stream.name, model=model, state=state)


# ---------------------------------------------------------------------------- metrics
def average_accuracy(R: np.ndarray) -> float:
    """ACC = (1/T) Σ_j R[T-1, j]: the final accuracy averaged over all tasks."""
    R = np.asarray(R, dtype=float)
    return float(R[-1].mean())


def backward_transfer(R: np.ndarray) -> float:
    """BWT = 1/(T-1) Σ_{j<T-1} (R[T-1, j] − R[j, j]); negative values are forgetting."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    if T < 2:
        return 0.0
    return float(np.mean([R[-1, j] - R[j, j] for j in range(T - 1)]))


def forward_transfer(R: np.ndarray, b: Sequence[float]) -> float:
    """FWT = 1/(T-1) Σ_{j≥1} (R[j-1, j] − b[j]), ``b[j]`` the accuracy of the random init."""
    R = np.asarray(R, dtype=float)
    T = len(R)
    if T < 2:
        return 0.0
    return float(np.mean([R[j - 1, j] - b[j] for j in range(1, T)]))


# ---------------------------------------------------------------------------- the heatmap
def plot_accuracy_matrix(ax, R: np.ndarray, *, labels: Sequence[str] | None = None, title: str | None = None,
                         annotate: bool = True, colorbar: bool = False):
    """Draw ``R`` as a heatmap (rows: after training task i; columns: tested on task j).

    Returns ``(image, texts)``: ``image.set_data(new_R)`` and ``texts[i][j].set_text(...)``
    update it in place (see :func:`update_accuracy_matrix`).
    """
    R = np.asarray(R, dtype=float)
    T = len(R)
    labels = [str(t + 1) for t in range(T)] if labels is None else list(labels)
    image = ax.imshow(R, vmin=0.0, vmax=1.0, cmap="viridis", interpolation="nearest")
    ax.set_xticks(range(T), labels)
    ax.set_yticks(range(T), labels)
    ax.set_xlabel("tested on task j")
    ax.set_ylabel("after training task i")
    ax.grid(False)
    if title:
        ax.set_title(title)
    texts = []
    for i in range(T):
        row = []
        for j in range(T):
            row.append(ax.text(j, i, "", ha="center", va="center", fontsize=8) if annotate else None)
        texts.append(row)
    if annotate:
        update_accuracy_matrix(image, texts, R)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="accuracy")
    return image, texts


def update_accuracy_matrix(image, texts, R: np.ndarray) -> None:
    """Put a new ``R`` into the artists of :func:`plot_accuracy_matrix`, in place."""
    R = np.asarray(R, dtype=float)
    image.set_data(R)
    for i, row in enumerate(texts):
        for j, text in enumerate(row):
            if text is not None:
                text.set_text(f"{R[i, j]:.2f}")
                text.set_color("black" if R[i, j] > 0.6 else "white")


# ---------------------------------------------------------------------------- many seeds at once
def flat(ensemble) -> torch.Tensor:
    """The members' parameters as one ``(K, P)`` matrix (differentiable, for penalties)."""
    return torch.cat([p.reshape(ensemble.size, -1) for p in ensemble.stacked], dim=1)


def _forward(ensemble, X: torch.Tensor) -> torch.Tensor:
    """``ensemble(X)``; for an MLP of Linear and ReLU layers, the same with batched matrix products
    (one ``baddbmm`` per layer, about a third cheaper than ``vmap`` over ``functional_call``)."""
    layers = getattr(ensemble, "_continual_layers", None)
    if layers is None:
        layers = []
        for name, module in ensemble._base.named_children():
            if isinstance(module, nn.Linear):
                layers.append(name)
            elif isinstance(module, nn.ReLU):
                layers.append("relu")
            else:
                layers = False
                break
        ensemble._continual_layers = layers
    if layers is False:
        return ensemble(X)
    p = ensemble.param_dict()
    h = X if X.dim() == 3 else X.unsqueeze(0).expand(ensemble.size, *X.shape)
    for name in layers:
        if name == "relu":
            h = torch.relu(h)
        else:
            h = torch.baddbmm(p[f"{name}.bias"].unsqueeze(1), h, p[f"{name}.weight"].transpose(1, 2))
    return h


def _per_member(value, K: int) -> torch.Tensor:
    """A float or a sequence of K floats as a ``(K,)`` tensor."""
    t = torch.as_tensor(value, dtype=torch.float32).reshape(-1)
    if t.numel() == 1:
        t = t.expand(K)
    if t.numel() != K:
        raise ValueError(f"need one value or one per member ({K}), got {t.numel()}")
    return t.clone()


def fit_batched(
    ensemble,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    allowed: torch.Tensor,
    lr,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int | None = 32,
    extra_loss: Callable | None = None,
    after_step: Callable | None = None,
) -> None:
    """Plain SGD of every member of an :class:`~nnpuzzles.nets.Ensemble` on (X, y), masked as
    :func:`masked_cross_entropy`, member ``k`` with step size ``lr[k]`` and data order ``seeds[k]``
    (as :func:`nnpuzzles.nets.train` would draw it).

    ``extra_loss(ensemble)`` returns a ``(K,)`` penalty per member (added to its loss).
    ``after_step(ensemble, grad, step)`` runs after each step with the ``(K, P)`` gradient of the
    *unregularised* task loss and the ``(K, P)`` change of the parameters that the step made.
    """
    K = ensemble.size
    if len(seeds) != K:
        raise ValueError(f"need one seed per member: {K} members, {len(seeds)} seeds")
    lr = _per_member(lr, K)
    params = list(ensemble.stacked)
    scale = [lr.view(K, *([1] * (p.dim() - 1))) for p in params]
    generators = [seeded_generator(s) for s in seeds]
    n = len(X)
    batch = n if batch_size is None else batch_size
    for _ in range(epochs):
        if batch < n:
            orders = torch.stack([torch.randperm(n, generator=g) for g in generators])
        else:
            orders = torch.arange(n).expand(K, n)
        for start in range(0, n, batch):
            idx = orders[:, start:start + batch]
            logits = _forward(ensemble, X[idx])                         # (K, b, C)
            target = y[idx]
            masked = logits.masked_fill(~allowed[target], float("-inf"))
            losses = F.cross_entropy(masked.flatten(0, 1), target.flatten(), reduction="none")
            task_loss = losses.view(K, -1).mean(dim=1).sum()            # members are independent
            grads = torch.autograd.grad(task_loss, params)
            total = list(grads)
            if extra_loss is not None:
                penalty = extra_loss(ensemble)
                if penalty is not None and penalty.requires_grad:
                    extra = torch.autograd.grad(penalty.sum(), params, allow_unused=True)
                    total = [g if e is None else g + e for g, e in zip(grads, extra, strict=True)]
            with torch.no_grad():
                steps = [-s * g for s, g in zip(scale, total, strict=True)]
                for p, d in zip(params, steps, strict=True):
                    p.add_(d)
            if after_step is not None:
                after_step(ensemble, torch.cat([g.reshape(K, -1) for g in grads], dim=1),
                           torch.cat([d.reshape(K, -1) for d in steps], dim=1))


@dataclass
class BatchContext:
    """What a method sees when it trains task ``i`` in :func:`run_batched` (all members at once)."""

    i: int
    task: Task
    stream: TaskStream
    scenario: str
    X: torch.Tensor
    y: torch.Tensor
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    allowed: torch.Tensor
    epochs: int
    lr: torch.Tensor
    batch_size: int | None
    seeds: list[int]
    template: nn.Module
    state: dict = field(default_factory=dict)

    @property
    def seen(self) -> tuple[Task, ...]:
        return self.stream.tasks[:self.i + 1]

    def seen_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All training data of tasks ``0..i`` in output space."""
        X = torch.cat([t.X_train for t in self.seen])
        y = torch.cat([targets(t, self.scenario) for t in self.seen])
        return X, y

    def fit(self, ensemble, X: torch.Tensor | None = None, y: torch.Tensor | None = None, **kwargs: Any) -> None:
        """:func:`fit_batched` on (X, y) (default: the current task) with this run's settings;
        keyword arguments (``epochs``, ``lr``, ``extra_loss``, ``after_step``) override them."""
        settings = dict(allowed=self.allowed, lr=self.lr, seeds=self.seeds, epochs=self.epochs,
                        batch_size=self.batch_size)
        settings.update(kwargs)
        fit_batched(ensemble, self.X if X is None else X, self.y if y is None else y, **settings)


@dataclass
class BatchResult:
    """The outcome of :func:`run_batched`: one accuracy matrix per member, ``R[k, i, j]``."""

    R: np.ndarray
    b: np.ndarray
    scenario: str
    seeds: list[int]
    lr: np.ndarray
    ensemble: Any
    template: nn.Module
    state: dict

    @property
    def acc(self) -> np.ndarray:
        return self.R[:, -1].mean(axis=1)

    @property
    def bwt(self) -> np.ndarray:
        return np.array([backward_transfer(R) for R in self.R])

    @property
    def fwt(self) -> np.ndarray:
        return np.array([forward_transfer(R, b) for R, b in zip(self.R, self.b, strict=True)])

    @property
    def plasticity(self) -> np.ndarray:
        """Mean of the diagonal ``R[k, j, j]``: how well each task is learned when trained."""
        return np.diagonal(self.R, axis1=1, axis2=2).mean(axis=1)

    def member(self, k: int) -> nn.Module:
        """Member ``k`` as an ordinary module."""
        return self.ensemble.member(k, self.template)


@torch.no_grad()
def evaluate_batched(ensemble, stream: TaskStream, scenario: str, j: int, upto: int) -> np.ndarray:
    """:func:`evaluate` for every member at once: a ``(K,)`` array of accuracies on task ``j``."""
    task = stream[j]
    y = targets(task, scenario, "test")
    out = _forward(ensemble, task.X_test)                                # (K, n, C)
    if scenario == "task":
        units = torch.as_tensor(task.classes)
    elif scenario == "domain":
        units = torch.arange(out.shape[-1])
    else:
        units = torch.as_tensor([c for t in stream.tasks[:max(upto, j) + 1] for c in t.classes])
    predicted = units[out[:, :, units].argmax(dim=-1)]
    return (predicted == y).float().mean(dim=1).numpy()


def run_batched(
    stream: TaskStream,
    scenario: str,
    train_task: Callable[[Any, BatchContext], Any],
    seeds: Sequence[int],
    *,
    lr=0.1,
    epochs: int = 20,
    batch_size: int | None = 32,
    model_fn: Callable[[int], nn.Module] = default_model,
    after_task: Callable[[Any, BatchContext], Any] | None = None,
) -> BatchResult:
    """:func:`run` for K members at once (plain SGD): member ``k`` starts from the network that
    ``run(seed=seeds[k])`` starts from, draws the same data order and uses step size ``lr[k]``
    (a float, or one per member). Seeds may repeat (e.g. one λ per member on the same seed).
    ``train_task(ensemble, ctx)`` trains all members; ``ctx.fit`` is :func:`fit_batched`.
    """
    from .nets import Ensemble

    _check_scenario(scenario)
    seeds = [int(s) for s in seeds]
    n_out = n_outputs(stream, scenario)
    models = []
    for s in seeds:
        seed_everything(s)
        models.append(model_fn(n_out))
    ensemble = Ensemble(models)
    template = models[0]
    K, T = len(seeds), len(stream)
    lr_t = _per_member(lr, K)
    b = np.stack([evaluate_batched(ensemble, stream, scenario, j, -1) for j in range(T)], axis=1)
    R = np.zeros((K, T, T))
    state: dict = {}
    for i, task in enumerate(stream):
        allowed = allowed_units(stream, scenario, i)
        ctx = BatchContext(
            i=i, task=task, stream=stream, scenario=scenario, X=task.X_train, y=targets(task, scenario),
            loss_fn=masked_cross_entropy(allowed), allowed=allowed, epochs=epochs, lr=lr_t,
            batch_size=batch_size, seeds=[s * 1000 + i for s in seeds], template=template, state=state,
        )
        train_task(ensemble, ctx)
        if after_task is not None:
            after_task(ensemble, ctx)
        R[:, i] = np.stack([evaluate_batched(ensemble, stream, scenario, j, i) for j in range(T)], axis=1)
    return BatchResult(R=R, b=b, scenario=scenario, seeds=seeds, lr=lr_t.numpy(), ensemble=ensemble,
                       template=template, state=state)
