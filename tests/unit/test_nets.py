"""The shared training loop learns, is reproducible, and honours its hooks."""

import pytest
import torch
from nnpuzzles import seed_everything
from nnpuzzles.nets import accuracy, digits_tensors, flat_params, mlp, set_flat_params, train


def trained(seed=0, **kwargs):
    seed_everything(seed)
    X, y, X_te, y_te = digits_tensors()
    model = mlp([64, 32, 10])
    history = train(model, X, y, epochs=20, lr=0.3, seed=seed, **kwargs)
    return model, history, X_te, y_te


def test_training_learns_digits():
    model, history, X_te, y_te = trained()
    assert history[-1] < history[0]
    assert accuracy(model, X_te, y_te) > 0.85


def test_training_is_reproducible():
    a, _, _, _ = trained()
    b, _, _, _ = trained()
    assert torch.equal(flat_params(a), flat_params(b))


def test_after_step_hook_runs_every_step():
    calls = []
    trained(after_step=lambda m: calls.append(1))
    assert len(calls) == 20 * -(-1347 // 64)


def test_accuracy_over_a_subset_of_classes():
    model = mlp([2, 3])
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([0.0, 1.0, 5.0]))
    X, y = torch.zeros(4, 2), torch.tensor([1, 1, 0, 2])
    assert accuracy(model, X, y) == 0.25
    assert accuracy(model, X, y, classes=[0, 1]) == 0.5


def test_flat_params_round_trip_and_bad_optimizer():
    model = mlp([4, 3, 2])
    vector = flat_params(model)
    set_flat_params(model, torch.zeros_like(vector))
    assert float(flat_params(model).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'adam'"):
        train(model, torch.zeros(4, 4), torch.zeros(4, dtype=torch.long), optimizer="rmsprop")
