"""Chapters 5 and 6: many seeds of a continual-learning run at once (run_batched, fit_batched)."""

import numpy as np
import torch
from nnpuzzles.continual import flat, run, run_batched, split_digits
from nnpuzzles.nets import mlp


def finetune(model, ctx):
    ctx.fit(model)


def tiny_model(n):
    return mlp([64, 8, n])


def test_each_member_is_the_single_run_of_its_seed_and_step_size():
    stream = split_digits()
    batch = run_batched(stream, "class", finetune, [0, 1, 1], lr=[0.2, 0.2, 0.05], epochs=2, model_fn=tiny_model)
    assert batch.R.shape == (3, 5, 5) and batch.b.shape == (3, 5)
    for k, (seed, lr) in enumerate([(0, 0.2), (1, 0.2), (1, 0.05)]):
        single = run(stream, "class", finetune, model_fn=tiny_model, epochs=2, lr=lr, seed=seed)
        assert np.allclose(batch.R[k], single.R, atol=1e-6), k
        assert np.allclose(batch.b[k], single.b)
        assert np.isclose(batch.acc[k], single.acc) and np.isclose(batch.bwt[k], single.bwt)
    assert batch.plasticity.shape == (3,)
    member = batch.member(2)
    assert isinstance(member, torch.nn.Sequential)


def test_after_step_gets_the_unregularised_gradient_and_the_step():
    stream = split_digits()
    seen = []

    def method(model, ctx):
        anchor = flat(model).detach().clone()

        def penalty(m):                                  # pulls towards the start: changes the step, not the grad
            return 5.0 * ((flat(m) - anchor - 1.0) ** 2).sum(dim=1)

        def after_step(m, grad, step):
            seen.append((grad.clone(), step.clone()))

        ctx.fit(model, epochs=1, batch_size=None, extra_loss=penalty, after_step=after_step)

    plain = []

    def reference(model, ctx):
        ctx.fit(model, epochs=1, batch_size=None, after_step=lambda m, g, s: plain.append(g.clone()))

    run_batched(stream, "task", method, [0, 1], lr=0.1, model_fn=tiny_model)
    run_batched(stream, "task", reference, [0, 1], lr=0.1, model_fn=tiny_model)
    grad, step = seen[0]
    assert grad.shape == step.shape == (2, flat_size(tiny_model(10)))
    assert torch.allclose(grad, plain[0])               # first step, same weights: the task loss's gradient alone
    assert not torch.allclose(step, -0.1 * grad)        # the step includes the penalty's pull


def flat_size(model):
    return sum(p.numel() for p in model.parameters())
