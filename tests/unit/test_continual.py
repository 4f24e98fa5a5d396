"""The continual-learning harness: task streams, scenarios, the accuracy matrix and its metrics."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from nnpuzzles.continual import (
    SCENARIOS,
    allowed_units,
    average_accuracy,
    backward_transfer,
    evaluate,
    forward_transfer,
    masked_cross_entropy,
    n_outputs,
    permuted_digits,
    plot_accuracy_matrix,
    run,
    split_digits,
    targets,
    update_accuracy_matrix,
)
from nnpuzzles.nets import mlp


def finetune(model, ctx):
    ctx.fit(model)


def test_split_digits_partitions_the_classes():
    stream = split_digits()
    assert len(stream) == 5
    assert sorted(c for task in stream for c in task.classes) == list(range(10))
    n_train = sum(len(task.X_train) for task in stream)
    n_test = sum(len(task.X_test) for task in stream)
    assert n_train + n_test == 1797
    for task in stream:
        assert task.X_train.shape[1] == 64
        assert set(task.y_train.tolist()) == {0, 1}
        assert set(targets(task, "class").tolist()) == set(task.classes)
        assert set(targets(task, "domain").tolist()) == {0, 1}
    assert [t.classes for t in split_digits(order=[9, 8, 7, 6, 5, 4, 3, 2, 1, 0])][0] == (9, 8)
    with pytest.raises(ValueError, match="n_tasks must divide 10"):
        split_digits(3)


def test_permuted_digits_permute_pixels_consistently():
    stream = permuted_digits(3)
    first, second = stream[0], stream[1]
    assert torch.equal(first.X_train[:, second.permutation], second.X_train)
    assert torch.equal(first.y_train, second.y_train)
    assert second.classes == tuple(range(10, 20))
    assert n_outputs(stream, "task") == n_outputs(stream, "class") == 30
    assert n_outputs(stream, "domain") == 10
    assert not np.array_equal(second.permutation, stream[2].permutation)
    assert np.array_equal(permuted_digits(3)[2].permutation, stream[2].permutation)


def test_allowed_units_per_scenario():
    stream = split_digits()
    task_mask = allowed_units(stream, "task", 0)
    assert task_mask[3].tolist() == [c in (2, 3) for c in range(10)]
    class_mask = allowed_units(stream, "class", 1)
    assert class_mask[0].tolist() == [c < 4 for c in range(10)]
    assert allowed_units(stream, "domain", 0).all()
    logits = torch.zeros(2, 10)
    loss = masked_cross_entropy(task_mask)(logits, torch.tensor([2, 3]))
    assert torch.isclose(loss, torch.log(torch.tensor(2.0)))  # two units compete, not ten
    with pytest.raises(ValueError, match="scenario must be one of"):
        allowed_units(stream, "instance", 0)


def test_evaluate_restricts_the_argmax():
    stream = split_digits()
    model = mlp([64, 10])
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 5.0, 0, 0, 0, 0, 0, 9.0]))
    # Task 1 holds digits 2 and 3; the model always says 3 within the task, 9 overall.
    share_of_3 = float((stream[1].y_test == 1).float().mean())
    assert evaluate(model, stream, "task", 1, 4) == pytest.approx(share_of_3)
    assert evaluate(model, stream, "class", 1, 4) == 0.0
    assert evaluate(model, stream, "class", 1, 1) == pytest.approx(share_of_3)


def test_metrics_on_a_hand_made_matrix():
    R = np.array([[0.9, 0.2, 0.1], [0.5, 0.8, 0.3], [0.4, 0.6, 0.7]])
    b = np.array([0.1, 0.1, 0.2])
    assert average_accuracy(R) == pytest.approx((0.4 + 0.6 + 0.7) / 3)
    assert backward_transfer(R) == pytest.approx(((0.4 - 0.9) + (0.6 - 0.8)) / 2)
    assert forward_transfer(R, b) == pytest.approx(((0.2 - 0.1) + (0.3 - 0.2)) / 2)
    assert backward_transfer(R[:1, :1]) == 0.0


def tiny(stream, scenario, method=finetune, **kwargs):
    return run(stream, scenario, method, model_fn=lambda n: mlp([64, 16, n]), epochs=3, lr=0.2, **kwargs)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_run_fills_the_matrix_and_is_reproducible(scenario):
    stream = split_digits()
    a = tiny(stream, scenario)
    assert a.R.shape == (5, 5) and a.b.shape == (5,)
    assert ((a.R >= 0) & (a.R <= 1)).all()
    assert np.diag(a.R).mean() > 0.8, "each task is learned when it is trained"
    b = tiny(stream, scenario)
    assert np.array_equal(a.R, b.R)
    assert set(a.summary()) == {"ACC", "BWT", "FWT"}


def test_class_incremental_finetuning_forgets():
    result = tiny(split_digits(), "class")
    assert result.acc < 0.35
    assert result.bwt < -0.6


def test_context_state_hooks_and_seen_data():
    seen = []

    def method(model, ctx):
        X, y = ctx.seen_data()
        seen.append((ctx.i, len(X), sorted(set(y.tolist()))))
        ctx.state.setdefault("calls", 0)
        ctx.state["calls"] += 1
        steps = []
        ctx.fit(model, epochs=1, after_step=lambda m: steps.append(1), extra_loss=lambda m: 0.0 * m[0].weight.sum())
        assert len(steps) == -(-len(ctx.X) // ctx.batch_size)

    after = []
    result = tiny(split_digits(), "class", method, after_task=lambda m, ctx: after.append(ctx.i))
    assert result.state["calls"] == 5 and after == [0, 1, 2, 3, 4]
    assert seen[1][2] == [0, 1, 2, 3]
    assert seen[4][1] == sum(len(t.X_train) for t in split_digits())


def test_custom_scores_replace_the_logits():
    def constant_scores(model, X):
        out = torch.zeros(len(X), 10)
        out[:, 0] = 1.0
        return out

    result = tiny(split_digits(), "class", scores=constant_scores)
    share_of_0 = float((split_digits()[0].y_test == 0).float().mean())
    assert result.R[4, 0] == pytest.approx(share_of_0)
    assert result.R[4, 1] == 0.0


def test_heatmap_updates_in_place():
    fig = Figure()
    ax = fig.subplots()
    R = np.eye(3)
    image, texts = plot_accuracy_matrix(ax, R, title="R")
    assert texts[0][0].get_text() == "1.00" and texts[0][1].get_text() == "0.00"
    update_accuracy_matrix(image, texts, 0.5 * np.ones((3, 3)))
    assert ax.images[0] is image
    assert texts[2][1].get_text() == "0.50"
    assert np.allclose(image.get_array(), 0.5)
