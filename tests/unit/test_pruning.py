"""Pruning masks, IMP bookkeeping and linear interpolation (nnpuzzles.pruning)."""

import pytest
import torch
from nnpuzzles import seed_everything
from nnpuzzles.nets import digits_tensors, flat_params, mlp, train
from nnpuzzles.pruning import (
    StepSnapshots,
    apply_masks,
    count_weights,
    error_barrier,
    fraction_remaining,
    full_masks,
    imp_round_masks,
    imp_schedule,
    interpolate,
    magnitude_masks,
    mask_hook,
    masked_copy,
    prunable,
    random_masks,
    small_convnet,
    state_copy,
)


def lenet(seed=0):
    seed_everything(seed)
    return mlp([64, 300, 100, 10])


def test_prunable_weights_are_the_matrices_only():
    model = lenet()
    assert list(prunable(model)) == ["0.weight", "2.weight", "4.weight"]
    assert count_weights(full_masks(model)) == (50200, 50200)


@pytest.mark.parametrize("keep", [0.5, 0.2, 0.036, 0.0, 1.0])
def test_global_mask_keeps_exactly_the_requested_fraction_of_largest_weights(keep):
    model = lenet()
    masks = magnitude_masks(model, keep, scope="global")
    remaining, total = count_weights(masks)
    assert remaining == round(keep * total)
    if 0 < keep < 1:
        weights = prunable(model)
        kept = torch.cat([weights[n].detach().abs()[masks[n] > 0] for n in masks])
        dropped = torch.cat([weights[n].detach().abs()[masks[n] == 0] for n in masks])
        assert kept.min() >= dropped.max()


def test_layerwise_mask_keeps_the_fraction_in_every_layer():
    model = lenet()
    masks = magnitude_masks(model, [0.5, 0.25, 0.9], scope="layer")
    for (n, m), f in zip(masks.items(), [0.5, 0.25, 0.9], strict=True):
        assert int(m.sum()) == round(f * m.numel()), n


def test_pruning_only_removes_surviving_weights():
    model = lenet()
    first = magnitude_masks(model, 0.5, scope="global")
    with torch.no_grad():  # make the pruned weights huge: they must stay pruned
        for n, w in prunable(model).items():
            w.add_(100.0 * (1 - first[n]))
    second = magnitude_masks(model, 0.5, scope="global", masks=first)
    assert count_weights(second)[0] == round(0.5 * count_weights(first)[0])
    for n in first:
        assert torch.all(second[n] <= first[n])


def test_imp_round_uses_per_layer_rates_and_schedule_matches():
    model = lenet()
    masks = full_masks(model)
    sizes = [m.numel() for m in masks.values()]
    rates = [0.2, 0.2, 0.1]
    fractions = [1.0]
    for _ in range(3):
        masks = imp_round_masks(model, masks, rates)
        fractions.append(fraction_remaining(masks))
    assert fractions == pytest.approx(imp_schedule(rates, sizes, 3))
    assert int(masks["4.weight"].sum()) == round(round(round(1000 * 0.9) * 0.9) * 0.9)


def test_random_masks_keep_the_per_layer_counts():
    model = lenet()
    masks = magnitude_masks(model, 0.1, scope="global")
    rand = random_masks(masks, torch.Generator().manual_seed(1))
    for n in masks:
        assert int(rand[n].sum()) == int(masks[n].sum())
    assert any(not torch.equal(rand[n], masks[n]) for n in masks)


def test_masked_weights_stay_zero_during_training():
    model = mlp([64, 32, 10])
    X, y, _, _ = digits_tensors()
    masks = magnitude_masks(model, 0.2, scope="global")
    apply_masks(model, masks)
    train(model, X[:256], y[:256], epochs=2, lr=1e-2, optimizer="adam", after_step=mask_hook(masks))
    for n, w in prunable(model).items():
        assert torch.all(w[masks[n] == 0] == 0)
        assert torch.any(w[masks[n] > 0] != 0)


def test_reset_and_snapshots():
    model = mlp([64, 32, 10])
    init = state_copy(model)
    X, y, _, _ = digits_tensors()
    snaps = StepSnapshots(model, steps=[0, 3, 5])
    train(model, X[:128], y[:128], epochs=1, batch_size=16, after_step=snaps)
    assert sorted(snaps.states) == [0, 3, 5]
    assert all(torch.equal(snaps.states[0][k], init[k]) for k in init)
    assert not torch.equal(snaps.states[3]["0.weight"], snaps.states[5]["0.weight"])
    masks = magnitude_masks(model, 0.3)
    child = masked_copy(model, init, masks)
    assert torch.equal(child[0].weight, init["0.weight"] * masks["0.weight"])


def test_interpolation_end_points_and_barrier():
    seed_everything(0)
    a, b = mlp([64, 16, 10]), mlp([64, 16, 10])
    assert torch.equal(flat_params(interpolate(a, b, 0.0)), flat_params(a))
    assert torch.allclose(flat_params(interpolate(a, b, 1.0)), flat_params(b))
    mid = flat_params(interpolate(a, b, 0.5))
    assert torch.allclose(mid, 0.5 * (flat_params(a) + flat_params(b)))
    _, _, X, y = digits_tensors()
    ts, errors, barrier = error_barrier(a, a, X, y, n_points=5)
    assert barrier == 0.0 and len(ts) == 5 and errors.min() == errors.max()


def test_conv_net_shapes_and_bad_arguments():
    net = small_convnet()
    assert net(torch.zeros(3, 64)).shape == (3, 10)
    assert list(prunable(net)) == ["1.weight", "3.weight", "7.weight"]
    with pytest.raises(ValueError, match="scope must be"):
        magnitude_masks(net, 0.5, scope="neuron")
    with pytest.raises(ValueError, match="fraction to keep"):
        magnitude_masks(net, 1.5)
    with pytest.raises(ValueError, match="one fraction per prunable layer"):
        magnitude_masks(net, [0.5, 0.5], scope="layer")
