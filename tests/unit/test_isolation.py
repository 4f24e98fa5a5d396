"""TaskRouted: one sub-network per task, routed through the task's own output units."""

import pytest
import torch
from nnpuzzles import continual as cl
from nnpuzzles.isolation import TaskRouted, count_parameters
from nnpuzzles.nets import mlp
from torch import nn


class OnePerTask(TaskRouted):
    def __init__(self, stream):
        super().__init__(stream)
        self.nets = nn.ModuleList(mlp([64, 16, self.n_out]) for _ in stream)

    def subnet(self, X, t):
        return self.nets[t](X)


def train_task(model, ctx):
    for t, net in enumerate(model.nets):
        net.requires_grad_(t == ctx.i)
    with model.learning(ctx.i):
        ctx.fit(model)


@pytest.fixture(scope="module")
def stream():
    return cl.split_digits()


def test_forward_routes_each_task_to_its_units(stream):
    torch.manual_seed(0)
    model = OnePerTask(stream)
    X = stream[0].X_test[:5]
    assert torch.equal(model(X), torch.zeros(5, 10)), "nothing trained: all zeros"
    model.trained = 2
    out = model(X)
    for t in (0, 1):
        units = model.units[t]
        assert torch.allclose(out[:, units], model.nets[t](X)[:, units])
    assert torch.equal(out[:, 4:], torch.zeros(5, 6))


def test_learning_runs_only_the_active_task(stream):
    model = OnePerTask(stream)
    X = stream[0].X_test[:3]
    with model.learning(3):
        assert model.active == 3
        assert torch.allclose(model(X), model.nets[3](X))
    assert model.active is None and model.trained == 4
    with pytest.raises(ValueError, match=r"task must be an integer in \[0, 4\], got 7"):
        with model.learning(7):
            pass


def test_isolated_training_never_forgets(stream):
    result = cl.run(stream, "task", train_task, model_fn=lambda n: OnePerTask(stream), epochs=3)
    R = result.R
    for j in range(len(R)):
        assert all(R[i, j] == R[j, j] for i in range(j, len(R))), "old tasks must be untouched"
    assert result.bwt == 0.0
    assert result.acc > 0.9


def test_count_parameters():
    net = mlp([4, 3, 2])
    assert count_parameters(net) == 4 * 3 + 3 + 3 * 2 + 2
    assert count_parameters(net, torch.zeros(5, 2)) == 23 + 10
