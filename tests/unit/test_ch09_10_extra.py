"""Masks for K networks trained as one batched Ensemble (nnpuzzles.pruning, chapters 9 and 10)."""

import pytest
import torch
from nnpuzzles import seed_everything
from nnpuzzles.nets import Ensemble, digits_tensors, mlp, train, train_ensemble
from nnpuzzles.pruning import (
    apply_masks,
    ensemble_mask_hook,
    magnitude_masks,
    mask_hook,
    masked_copy,
    stack_masks,
    state_copy,
)


def nets(seeds):
    out = []
    for s in seeds:
        seed_everything(s)
        out.append(mlp([64, 30, 10]))
    return out


def test_stack_masks_stacks_along_a_new_first_axis():
    models = nets([0, 1])
    masks = [magnitude_masks(m, 0.3) for m in models]
    stacked = stack_masks(masks)
    assert list(stacked) == list(masks[0])
    for name, m in stacked.items():
        assert m.shape == (2, *masks[0][name].shape)
        assert torch.equal(m[1], masks[1][name])
    with pytest.raises(ValueError):
        stack_masks([])


def test_masked_ensemble_trains_like_separate_masked_networks():
    X, y, _, _ = digits_tensors()
    X, y = X[:300], y[:300]
    models = nets([0, 1])
    masks = [magnitude_masks(m, 0.2) for m in models]
    pruned = [masked_copy(m, state_copy(m), mk) for m, mk in zip(models, masks, strict=True)]
    ens = Ensemble(pruned)
    hook = ensemble_mask_hook(stack_masks(masks))
    hook(ens)
    train_ensemble(ens, X, y, [0, 1], epochs=2, optimizer="adam", lr=4e-3, batch_size=64, after_step=hook)
    template = mlp([64, 30, 10])
    for k, (m, mk) in enumerate(zip(pruned, masks, strict=True)):
        alone = masked_copy(m, state_copy(m), mk)
        train(apply_masks(alone, mk), X, y, epochs=2, optimizer="adam", lr=4e-3, batch_size=64, seed=k,
              after_step=mask_hook(mk))
        member = ens.member(k, template)
        for (name, a), b in zip(member.named_parameters(), alone.parameters(), strict=True):
            assert torch.allclose(a, b, atol=1e-5), name
        assert all(torch.all(member.state_dict()[n][mk[n] == 0] == 0) for n in mk)
