"""The hypernetwork: from a robot's joint descriptors to that robot's per-joint weights.

Everything here runs once per distinct robot, never per sample, and depends only on the static
descriptors and the has-gripper flag. Per-joint tensors are kept two-dimensional, one row per
(robot, joint) pair (row u * J + j), so that every layer is a single matrix product.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_DESC_DIM


class GeneratedWeights(NamedTuple):
    """Per-joint generated weights for U robots padded to J joints, one row per (robot, joint)
    pair; padded joints' rows are zero.

    ``code`` (U * J, (S + 1) * C): each joint's input code, S rows of width C (one per input
    entry) and a bias row. Joint j's input weights are ``code_j[:S] @ basis`` and its bias
    ``code_j[S] @ basis``, with ``basis`` (C, W) a learned matrix shared by all joints that the
    trunk owns. ``out`` (U * J, k * (F + 1)): each joint's output layer, k rows of F weights
    (reading trunk features of width F) and a bias, or None when the network has no per-joint
    outputs. ``morphology`` (U, E) is the robot embedding.
    """

    code: Tensor
    out: Tensor | None
    morphology: Tensor


class MorphologyEncoder(nn.Module):
    """Per-joint descriptor embeddings ``e_j`` (one ReLU layer over the descriptor) and the
    robot embedding ``m`` (one ReLU layer over the masked mean of ``e_j`` over real joints and
    the has-gripper flag).

    Both are read only by linear maps (the generator's first layer, FiLM, the attention
    trunk's robot token), so a linear output layer on either would add parameters and kernels
    but nothing those maps cannot express.
    """

    def __init__(self, embed: int) -> None:
        super().__init__()
        self.joint = nn.Linear(JOINT_DESC_DIM, embed)
        self.robot = nn.Linear(embed + 1, embed)

    def forward(self, desc: Tensor, joint_mask: Tensor, gripper: Tensor) -> tuple[Tensor, Tensor]:
        """``desc`` (U, J, D), ``joint_mask`` (U, J), ``gripper`` (U, 1) -> ``e`` (U * J, E)
        and ``m`` (U, E)."""
        u, j = joint_mask.shape
        e = F.relu(self.joint(desc.reshape(u * j, -1)))
        # Padded rows of e are finite (desc is clean there), so zero weights mask them exactly.
        weights = joint_mask / joint_mask.sum(1, keepdim=True).clamp(min=1.0)
        mean = torch.bmm(weights.unsqueeze(1), e.view(u, j, -1)).view(u, -1)
        return e, F.relu(self.robot(torch.cat([mean, gripper], dim=1)))


class WeightGenerator(nn.Module):
    """Maps ``[e_j, m]`` to joint j's input code (``inputs`` + 1 rows of width ``code``: one
    per input entry and one for the bias) and, when ``outputs`` > 0, its output layer
    (``outputs`` rows of ``out_fan_in`` weights and a bias).

    Input weights are generated as a code times a shared basis (``GeneratedWeights``) rather
    than whole: the generator then has ``(inputs + 1) * code`` outputs for them instead of
    ``(inputs + 1) * width``, and the trunk applies all joints' weights in one small product.
    One output layer (``head``) generates both, codes first. It is initialised so that, with a
    basis of entries of variance 1 / ``code``, input weights start with variance 1 / ``inputs``
    per joint, output weights at ``out_gain`` / sqrt(``out_fan_in``) and all biases at zero.
    The hidden layer is layer-normed, so that scale holds whatever the descriptors look like.
    The output layer has no bias and padded joints' hidden rows are zeroed, so their generated
    weights are exactly zero.

    The output layer's outputs are multiplied by 1 / ``hidden`` (``multiplier``): for one
    robot its ReLU inputs are fixed, so an Adam step of size lr on every output-layer weight
    would otherwise move each generated entry by about lr x ``hidden`` / 2, a hundred times
    what the same step does to a plain layer. With the multiplier a generated entry moves like
    an ordinary weight.
    """

    def __init__(
        self,
        embed: int,
        hidden: int,
        inputs: int,
        code: int,
        out_fan_in: int,
        outputs: int,
        out_gain: float,
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2 * embed, hidden), nn.LayerNorm(hidden), nn.ReLU())
        self.code_size = (inputs + 1) * code
        # One output layer for the codes and the output layers side by side: one product.
        self.head = nn.Linear(hidden, self.code_size + outputs * (out_fan_in + 1), bias=False)
        self.multiplier = 1.0 / hidden
        # A layer-normed ReLU feature has mean square 1/2, so a weight of std
        # sqrt(2 / hidden) * target gives generated entries of std ~ target.
        unit = math.sqrt(2.0 / hidden) / self.multiplier
        with torch.no_grad():
            code_rows = self.head.weight[: self.code_size].view(inputs + 1, code, hidden)
            code_rows[:inputs].normal_(0.0, unit / math.sqrt(inputs))
            code_rows[inputs].zero_()
            out_rows = self.head.weight[self.code_size :].view(outputs, out_fan_in + 1, hidden)
            out_rows[:, :out_fan_in].normal_(0.0, unit * out_gain / math.sqrt(out_fan_in))
            out_rows[:, out_fan_in].zero_()

    def forward(self, e: Tensor, m: Tensor, joint_mask: Tensor) -> GeneratedWeights:
        """``e`` (U * J, E), ``m`` (U, E), ``joint_mask`` (U, J) -> the generated weights."""
        z = self.body(torch.cat([e, m.repeat_interleave(joint_mask.shape[1], dim=0)], dim=1))
        # Scaling the output layer's input by the multiplier equals scaling its output, on
        # fewer numbers; the same product zeroes padded joints.
        z = z * (joint_mask.reshape(-1, 1) * self.multiplier)
        generated = self.head(z)
        code, out = generated.split([self.code_size, generated.shape[1] - self.code_size], 1)
        return GeneratedWeights(code, out if out.shape[1] else None, m)


class FilmGenerator(nn.Module):
    """FiLM scale and shift of one trunk layer: a linear map of the robot embedding ``m`` to
    ``(U, 2 * width)``, the scale first, plus the identity (scale 1, shift 0). It starts close
    to the identity; the map's output carries the same 1 / fan-in multiplier as
    ``WeightGenerator``'s, for the same reason. It has no bias: a constant scale or shift is
    already expressible by the modulated layer's own weights and bias."""

    def __init__(self, embed: int, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(embed, 2 * width, bias=False)
        self.multiplier = 1.0 / embed
        with torch.no_grad():
            self.linear.weight.mul_(0.01 / self.multiplier)
        identity = torch.cat([torch.ones(width), torch.zeros(width)])
        self.register_buffer("identity", identity, persistent=False)

    def forward(self, m: Tensor) -> Tensor:
        return torch.addmm(self.identity, m, self.linear.weight.t(), alpha=self.multiplier)
