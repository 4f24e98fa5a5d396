"""Pruning plumbing for Part III: masks, IMP bookkeeping and linear mode connectivity.

The chapters write the teaching versions of these steps out in the notebook; the experiments
then use the tested versions here.

* A **mask** is a dict ``{parameter name: 0/1 float tensor}`` over the *prunable* parameters:
  the weight matrices (and convolution kernels) of a model, never the biases, as in
  Frankle & Carbin (2019).
* :func:`magnitude_masks` keeps the largest-magnitude surviving weights, globally or layer by
  layer; :func:`imp_round_masks` is one round of iterative magnitude pruning (a rate per layer).
* :func:`apply_masks` zeroes pruned weights; :func:`mask_hook` returns an ``after_step`` hook for
  :func:`nnpuzzles.nets.train` that keeps them zero during training; :func:`stack_masks` and
  :func:`ensemble_mask_hook` do the same for K networks trained as one
  :class:`~nnpuzzles.nets.Ensemble` (one set of masks per member).
* :func:`interpolate` and :func:`error_barrier` walk the straight line between two trained
  networks (Frankle, Dziugaite, Roy & Carbin 2020).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .nets import accuracy, flat_params, set_flat_params

Masks = dict[str, torch.Tensor]


# ---------------------------------------------------------------------------- which weights
def prunable(model: nn.Module) -> dict[str, nn.Parameter]:
    """The weights that pruning acts on: every parameter with 2 or more dimensions, in order."""
    return {name: p for name, p in model.named_parameters() if p.dim() >= 2}


def full_masks(model: nn.Module) -> Masks:
    """All-ones masks: nothing pruned yet."""
    return {name: torch.ones_like(p, dtype=torch.float32) for name, p in prunable(model).items()}


def count_weights(masks: Masks) -> tuple[int, int]:
    """(weights remaining, prunable weights in all) of a set of masks."""
    remaining = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    return remaining, total


def fraction_remaining(masks: Masks) -> float:
    """Fraction of prunable weights that the masks keep."""
    remaining, total = count_weights(masks)
    return remaining / total


def _keep_top(scores: torch.Tensor, alive: torch.Tensor, n_keep: int) -> torch.Tensor:
    """0/1 mask keeping the ``n_keep`` highest scores among ``alive`` entries (ties: lower index)."""
    flat_scores = scores.reshape(-1).double()
    flat_alive = alive.reshape(-1) > 0
    n_keep = int(max(0, min(n_keep, int(flat_alive.sum()))))
    masked = torch.where(flat_alive, flat_scores, torch.full_like(flat_scores, -1.0))
    # A stable argsort makes ties (e.g. equal magnitudes) deterministic.
    order = torch.from_numpy(np.argsort(-masked.numpy(), kind="stable").copy())
    keep = torch.zeros_like(flat_scores, dtype=torch.float32)
    keep[order[:n_keep]] = 1.0
    return keep.reshape(scores.shape)


def magnitude_masks(
    model: nn.Module,
    keep: float | Sequence[float],
    *,
    scope: str = "global",
    masks: Masks | None = None,
) -> Masks:
    """Masks keeping the largest-|w| weights of ``model``.

    ``keep`` is the fraction of the *currently surviving* weights (those ``masks`` keeps; all
    weights if ``masks`` is None) to keep. ``scope="global"`` ranks all prunable weights together;
    ``scope="layer"`` keeps that fraction in each layer (``keep`` may then be one fraction per
    prunable layer). The number kept is rounded to the nearest integer.
    """
    weights = prunable(model)
    masks = full_masks(model) if masks is None else masks
    if scope == "global":
        if not isinstance(keep, (int, float)):
            raise ValueError("scope='global' needs one fraction, not one per layer")
        _check_fraction(keep)
        names = list(weights)
        scores = torch.cat([weights[n].detach().abs().reshape(-1) for n in names])
        alive = torch.cat([masks[n].reshape(-1) for n in names])
        kept = _keep_top(scores, alive, round(keep * int(alive.sum())))
        out, start = {}, 0
        for n in names:
            size = weights[n].numel()
            out[n] = kept[start:start + size].reshape(weights[n].shape)
            start += size
        return out
    if scope == "layer":
        fractions = [keep] * len(weights) if isinstance(keep, (int, float)) else list(keep)
        if len(fractions) != len(weights):
            raise ValueError(f"need one fraction per prunable layer ({len(weights)}), got {len(fractions)}")
        out = {}
        for (n, w), f in zip(weights.items(), fractions, strict=True):
            _check_fraction(f)
            out[n] = _keep_top(w.detach().abs(), masks[n], round(f * int(masks[n].sum())))
        return out
    raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")


def _check_fraction(f: float) -> None:
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"a fraction to keep must be in [0, 1], got {f}")


def imp_round_masks(model: nn.Module, masks: Masks, rates: Sequence[float]) -> Masks:
    """One round of iterative magnitude pruning: prune ``rates[i]`` of layer i's surviving weights.

    Frankle & Carbin (2019) prune 20 % per round in hidden layers and 10 % in the output layer
    of LeNet-300-100: ``rates=[0.2, 0.2, 0.1]``.
    """
    return magnitude_masks(model, [1.0 - r for r in rates], scope="layer", masks=masks)


def imp_schedule(rates: Sequence[float], layer_sizes: Sequence[int], rounds: int) -> list[float]:
    """Fraction of all prunable weights remaining after 0, 1, …, ``rounds`` IMP rounds."""
    sizes = np.asarray(layer_sizes, dtype=float)
    left = sizes.copy()
    fractions = [1.0]
    for _ in range(rounds):
        left = np.round(left * (1.0 - np.asarray(rates, dtype=float)))
        fractions.append(float(left.sum() / sizes.sum()))
    return fractions


def random_masks(masks: Masks, generator: torch.Generator) -> Masks:
    """Random masks with the same number of kept weights in each layer as ``masks``."""
    out = {}
    for n, m in masks.items():
        n_keep = int(m.sum())
        perm = torch.randperm(m.numel(), generator=generator)
        flat = torch.zeros(m.numel())
        flat[perm[:n_keep]] = 1.0
        out[n] = flat.reshape(m.shape)
    return out


def stack_masks(masks: Sequence[Masks]) -> Masks:
    """One set of masks per network → masks of shape ``(K, ...)`` for an :class:`~nnpuzzles.nets.Ensemble`."""
    if not masks:
        raise ValueError("need at least one set of masks")
    return {n: torch.stack([m[n] for m in masks]) for n in masks[0]}


# ---------------------------------------------------------------------------- applying masks
@torch.no_grad()
def apply_masks(model: nn.Module, masks: Masks) -> nn.Module:
    """Zero the pruned weights of ``model`` in place (returns the model)."""
    weights = prunable(model)
    for n, m in masks.items():
        weights[n].mul_(m)
    return model


def mask_hook(masks: Masks):
    """An ``after_step`` hook for :func:`nnpuzzles.nets.train` that keeps pruned weights at zero."""

    def hook(model: nn.Module) -> None:
        apply_masks(model, masks)

    return hook


def ensemble_mask_hook(masks: Masks):
    """An ``after_step`` hook for :func:`nnpuzzles.nets.train_ensemble`: stacked masks (see
    :func:`stack_masks`) keep every member's pruned weights at zero after each step. Call it once on
    the ensemble before training, too, to zero the pruned weights at the start."""

    @torch.no_grad()
    def hook(ensemble) -> None:
        params = ensemble.param_dict()
        for n, m in masks.items():
            params[n].mul_(m)

    return hook


def masked_copy(model: nn.Module, state: dict, masks: Masks) -> nn.Module:
    """A copy of ``model`` with parameters ``state`` (a state_dict) and ``masks`` applied.

    With ``state`` the initial weights this is Frankle & Carbin's *reset*; with the weights of
    training step k it is *rewinding* to k.
    """
    child = copy.deepcopy(model)
    child.load_state_dict(state)
    return apply_masks(child, masks)


def state_copy(model: nn.Module) -> dict:
    """A detached copy of a model's state_dict (to reset or rewind to later)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class StepSnapshots:
    """An ``after_step`` hook that keeps copies of the weights at chosen training steps.

    ``StepSnapshots(model, steps=[0, 10, 100])`` stores step 0 at once (the initialisation);
    pass it to :func:`nnpuzzles.nets.train` and ``.states[k]`` holds the weights after step k.
    ``masks`` (optional) are applied first, so it can be combined with pruning.
    """

    def __init__(self, model: nn.Module, steps: Sequence[int], masks: Masks | None = None) -> None:
        self.steps = set(int(s) for s in steps)
        self.masks = masks
        self.step = 0
        self.states: dict[int, dict] = {}
        if 0 in self.steps:
            self.states[0] = state_copy(model)

    def __call__(self, model: nn.Module) -> None:
        if self.masks is not None:
            apply_masks(model, self.masks)
        self.step += 1
        if self.step in self.steps:
            self.states[self.step] = state_copy(model)


# ---------------------------------------------------------------------------- linear paths
@torch.no_grad()
def interpolate(model_a: nn.Module, model_b: nn.Module, t: float) -> nn.Module:
    """A new model with parameters (1 − t)·θ_a + t·θ_b (t = 0 gives a, t = 1 gives b)."""
    mixed = copy.deepcopy(model_a)
    set_flat_params(mixed, (1.0 - t) * flat_params(model_a) + t * flat_params(model_b))
    return mixed


def error_barrier(
    model_a: nn.Module,
    model_b: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    n_points: int = 11,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Test error along the straight line from a to b, and its barrier.

    Returns ``(ts, errors, barrier)`` where ``barrier = max_t error(t) − (error(0) + error(1)) / 2``
    (the error-barrier height of Frankle et al. 2020; 0 for linearly connected networks, and
    clipped at 0 from below since the path may dip below the end points' mean).
    """
    ts = np.linspace(0.0, 1.0, n_points)
    errors = np.array([1.0 - accuracy(interpolate(model_a, model_b, float(t)), X, y) for t in ts])
    barrier = max(0.0, float(errors.max() - 0.5 * (errors[0] + errors[-1])))
    return ts, errors, barrier


# ---------------------------------------------------------------------------- a small conv net
def small_convnet(channels: int = 16, n_classes: int = 10) -> nn.Sequential:
    """A small convolutional net for flattened 8×8 digits (input shape (n, 64))."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * channels * 16, n_classes),
    )


# ---------------------------------------------------------------------------- K networks at once
class EnsembleSnapshots:
    """:class:`StepSnapshots` for :func:`nnpuzzles.nets.train_ensemble`: every member's weights after
    chosen steps. ``.states[k]`` maps a parameter name to a ``(K, ...)`` tensor (step 0 is stored at
    once); :func:`member_state` turns one member's slice into a state_dict for a single network."""

    def __init__(self, ensemble, steps: Sequence[int]) -> None:
        self.steps = set(int(s) for s in steps)
        self.step = 0
        self.states: dict[int, dict[str, torch.Tensor]] = {}
        if 0 in self.steps:
            self.states[0] = _stacked_copy(ensemble)

    def __call__(self, ensemble) -> None:
        self.step += 1
        if self.step in self.steps:
            self.states[self.step] = _stacked_copy(ensemble)


def _stacked_copy(ensemble) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in ensemble.param_dict().items()}


def member_state(stacked: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """Member ``k`` of stacked parameters (an :class:`EnsembleSnapshots` state) as a state_dict."""
    return {n: p[k].clone() for n, p in stacked.items()}


@torch.no_grad()
def ensemble_error_barriers(ensemble_a, ensemble_b, X: torch.Tensor, y: torch.Tensor,
                            n_points: int = 11) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`error_barrier` for K pairs at once: member k of ``ensemble_a`` against member k of
    ``ensemble_b``. Returns ``(ts, errors, barriers)`` with ``errors`` of shape ``(K, n_points)``."""
    from .nets import ensemble_accuracy

    ts = np.linspace(0.0, 1.0, n_points)
    theta_a, theta_b = _stacked_copy(ensemble_a), _stacked_copy(ensemble_b)
    mixed = copy.deepcopy(ensemble_a)
    errors = []
    for t in ts:
        for n, p in mixed.param_dict().items():
            p.copy_((1.0 - t) * theta_a[n] + t * theta_b[n])
        errors.append(1.0 - ensemble_accuracy(mixed, X, y).astype(float))
    errors = np.stack(errors, axis=1)
    barriers = np.maximum(0.0, errors.max(axis=1) - 0.5 * (errors[:, 0] + errors[:, -1]))
    return ts, errors, barriers
