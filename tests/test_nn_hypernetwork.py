"""The hypernetwork's generated weights: their initial scale, exact zeros for padded joints, and
the 1/fan-in multiplier that keeps an optimizer step on the generator as small as one on a
plain layer."""

from __future__ import annotations

import math

import numpy as np
import torch

from deepwe_rl.morphology import JOINT_STATE_DIM
from deepwe_rl.nn import NetworkConfig, build_actor
from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.film_trunk import FilmTrunk
from deepwe_rl.nn.grouping import group_rows, morphology_rows, split_rows
from deepwe_rl.nn.layers import POLICY_HEAD_GAIN
from deepwe_rl.nn.synthetic import observation_batch, random_robot


def actor_and_rows(seed: int = 0) -> tuple[DeepWeNet, torch.Tensor]:
    rng = np.random.default_rng(seed)
    robots = [random_robot(n, rng) for n in (2, 4, 7)]
    obs = observation_batch(robots, 8, rng)
    torch.manual_seed(seed)
    net = build_actor(NetworkConfig(), 8).net
    assert isinstance(net, DeepWeNet) and isinstance(net.trunk, FilmTrunk)
    return net, group_rows(morphology_rows(obs)).rows


def generated(net: DeepWeNet, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every joint's input weights (U * J, S + 1, H), bias row last, and output layers
    (U * J, k, F + 1)."""
    desc, mask, gripper = split_rows(rows)
    gen = net.generator(*net.morphology(desc, mask, gripper), mask)
    assert gen.out is not None and isinstance(net.trunk, FilmTrunk)
    inputs = gen.code.view(gen.code.shape[0], JOINT_STATE_DIM + 1, -1) @ net.trunk.basis
    return inputs, gen.out.view(gen.out.shape[0], net.slot_outputs, -1)


def test_initial_scale_matches_a_plain_layer_and_padding_is_zero() -> None:
    net, rows = actor_and_rows()
    with torch.no_grad():
        inputs, outputs = generated(net, rows)
    real = split_rows(rows)[1].flatten() > 0.5
    weights = inputs[real, :-1]
    assert abs(weights.std().item() * math.sqrt(JOINT_STATE_DIM) - 1.0) < 0.2
    out_weights = outputs[real, :, :-1]
    target = POLICY_HEAD_GAIN / math.sqrt(out_weights.shape[-1])
    assert abs(out_weights.std().item() / target - 1.0) < 0.2
    assert torch.all(inputs[real, -1] == 0) and torch.all(outputs[real, :, -1] == 0)
    assert torch.all(inputs[~real] == 0) and torch.all(outputs[~real] == 0)


def test_a_generator_step_moves_generated_weights_like_a_plain_layer() -> None:
    """One sign-gradient step of size lr (what Adam takes at first) on the generator's output
    layers moves generated entries by about lr, not lr x hidden."""
    net, rows = actor_and_rows()
    generator = net.generator
    assert generator.multiplier == 1.0 / net.cfg.hyper_hidden
    with torch.no_grad():
        before = [t.clone() for t in generated(net, rows)]
    inputs, outputs = generated(net, rows)
    (inputs.sum() + outputs.sum()).backward()
    lr = 1e-3
    with torch.no_grad():
        weight = generator.head.weight
        assert weight.grad is not None
        weight -= lr * weight.grad.sign()
        after = generated(net, rows)
    real = split_rows(rows)[1].flatten() > 0.5
    code_step = (after[0] - before[0])[real].abs().mean().item()
    out_step = (after[1] - before[1])[real].abs().mean().item()
    assert out_step < 2 * lr
    # Input weights are codes times the basis, whose entries have std 1/sqrt(C): a code step
    # of about lr moves them by about lr too.
    assert code_step < 2 * lr
