"""The hypernetwork: from a robot's joint descriptors to that robot's per-joint weights.

Everything here runs once per distinct robot, never per sample, and depends only on the static
descriptors and the has-gripper flag.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_DESC_DIM
from deepwe_rl.nn.layers import mlp


class GeneratedWeights(NamedTuple):
    """Per-joint weights for U robots padded to J joints; rows of padded joints are zero.

    ``w_in`` (U, J, S, W) and ``b_in`` (U, J, W) map a joint's S input entries into the trunk's
    width W. ``w_out`` (U, J, k, F) and ``b_out`` (U, J, k) map trunk features of width F to the
    joint's k outputs (None when the network has no per-joint outputs). ``morphology`` (U, E) is
    the robot embedding.
    """

    w_in: Tensor
    b_in: Tensor
    w_out: Tensor | None
    b_out: Tensor | None
    morphology: Tensor


class MorphologyEncoder(nn.Module):
    """Per-joint descriptor embeddings ``e_j`` and the robot embedding ``m``: the masked mean of
    ``e_j`` over real joints with the has-gripper flag, through a small MLP."""

    def __init__(self, embed: int) -> None:
        super().__init__()
        self.joint = mlp([JOINT_DESC_DIM, embed, embed], final_activation=False)
        self.robot = mlp([embed + 1, embed, embed], final_activation=False)

    def forward(self, desc: Tensor, joint_mask: Tensor, gripper: Tensor) -> tuple[Tensor, Tensor]:
        """``desc`` (U, J, D), ``joint_mask`` (U, J), ``gripper`` (U, 1) -> ``e`` (U, J, E) and
        ``m`` (U, E)."""
        e = self.joint(desc)
        # desc is already clean (padding rows zero), so e is finite and a product masks exactly.
        total = (e * joint_mask.unsqueeze(-1)).sum(1)
        mean = total / joint_mask.sum(1, keepdim=True).clamp(min=1.0)
        return e, self.robot(torch.cat([mean, gripper], dim=1))


class WeightGenerator(nn.Module):
    """Maps ``[e_j, m]`` to joint j's input weights (``inputs`` x ``in_width`` plus a bias) and,
    when ``outputs`` > 0, its output weights (``out_fan_in`` x ``outputs`` plus a bias).

    The last layer is initialised so the generated weights start at the scale of a freshly
    initialised linear layer: input weights with variance 1 / ``inputs`` per joint, output
    weights ``out_gain`` / sqrt(``out_fan_in``), biases zero. The hidden layer is layer-normed,
    so that scale holds whatever the descriptors look like. The last layer has no bias and
    padded joints' hidden rows are zeroed, so their generated weights are exactly zero.

    The last layer's output is multiplied by 1 / ``hidden``: for one robot its ReLU features are
    fixed, so an Adam step of size lr on every head weight would otherwise move each generated
    weight by about lr x ``hidden`` / 2, a hundred times what the same step does to a plain
    layer. With the multiplier a generated weight moves like an ordinary one.
    """

    def __init__(
        self,
        embed: int,
        hidden: int,
        inputs: int,
        in_width: int,
        out_fan_in: int,
        outputs: int,
        out_gain: float,
    ) -> None:
        super().__init__()
        self.inputs, self.in_width = inputs, in_width
        self.out_fan_in, self.outputs = out_fan_in, outputs
        self.body = nn.Sequential(nn.Linear(2 * embed, hidden), nn.LayerNorm(hidden), nn.ReLU())
        sizes = [inputs * in_width, in_width, out_fan_in * outputs, outputs]
        self.head = nn.Linear(hidden, sum(sizes), bias=False)
        self.multiplier = 1.0 / hidden
        # A layer-normed ReLU feature has mean square 1/2, so a weight of std
        # sqrt(2 / hidden) * target gives generated entries of std ~ target.
        unit = math.sqrt(2.0 / hidden) / self.multiplier
        targets = [1.0 / math.sqrt(inputs), 0.0, out_gain / math.sqrt(out_fan_in), 0.0]
        with torch.no_grad():
            for block, target in zip(self.head.weight.split(sizes), targets, strict=True):
                block.normal_(0.0, unit * target)
        self.sizes = sizes

    def forward(self, e: Tensor, m: Tensor, joint_mask: Tensor) -> GeneratedWeights:
        """``e`` (U, J, E), ``m`` (U, E), ``joint_mask`` (U, J) -> the generated weights."""
        u, j = joint_mask.shape
        z = self.body(torch.cat([e, m.unsqueeze(1).expand(-1, j, -1)], dim=-1))
        raw = self.head(z * joint_mask.unsqueeze(-1)) * self.multiplier
        w_in, b_in, w_out, b_out = raw.split(self.sizes, dim=-1)
        w_in = w_in.reshape(u, j, self.inputs, self.in_width)
        if self.outputs:
            return GeneratedWeights(
                w_in, b_in, w_out.reshape(u, j, self.outputs, self.out_fan_in), b_out, m
            )
        return GeneratedWeights(w_in, b_in, None, None, m)


class FilmGenerator(nn.Module):
    """Per-layer FiLM scale and shift ``(U, layers, width)``: a linear map of the robot
    embedding ``m``. Starts close to the identity (scale 1, shift 0); its output carries the
    same 1 / fan-in multiplier as ``WeightGenerator``'s, for the same reason."""

    def __init__(self, embed: int, layers: int, width: int) -> None:
        super().__init__()
        self.layers, self.width = layers, width
        self.linear = nn.Linear(embed, 2 * layers * width)
        self.multiplier = 1.0 / embed
        with torch.no_grad():
            self.linear.weight.mul_(0.01 / self.multiplier)
            self.linear.bias.zero_()

    def forward(self, m: Tensor) -> tuple[Tensor, Tensor]:
        out = (self.linear(m) * self.multiplier).view(m.shape[0], 2, self.layers, self.width)
        return out[:, 0] + 1.0, out[:, 1]
