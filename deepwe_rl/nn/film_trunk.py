"""The FiLM trunk, DeepWe's default: an MLP whose first layer reads every joint through that
joint's generated weights and is modulated by the robot embedding (FiLM), and whose output
layer applies each joint's generated output weights.

It runs on the batch as it comes, whatever robots it mixes, given which robot each sample is:
FiLM vectors are gathered per sample, and generated matrices apply to all samples in one
ordinary product, each sample's inputs placed in its robot's block of columns (or its outputs
picked from its robot's block), so weights are never copied per sample.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_STATE_DIM
from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.hypernetwork import FilmGenerator, GeneratedWeights
from deepwe_rl.nn.trunk import Trunk, TrunkInputs


class FilmWeights(NamedTuple):
    """The FiLM trunk's weights for U robots, ready to apply.

    ``code`` (U, J * (S + 1), C): the joints' input codes, joint by joint, each joint's S input
    rows followed by its bias row; ``out`` (U, J * k, F + 1): the per-joint output layers, one
    row of weights and a bias per output (None without per-joint outputs); ``film``
    (U, 2 * H): the first layer's FiLM scale and shift.
    """

    code: Tensor
    out: Tensor | None
    film: Tensor


def joint_scale(joint_present: Tensor) -> Tensor:
    """Factor 1/sqrt(real joints) ``(..., 1)`` from a 0/1 ``joint_present`` (..., J). Joint
    inputs are scaled by it, so the first layer's sum over joints keeps its scale whatever the
    joint count."""
    return joint_present.sum(-1, keepdim=True).clamp(min=1.0).rsqrt()


class Folded(NamedTuple):
    """The FiLM trunk folded for one robot into plain layers: the first layer's weight
    ``first_w`` (joint state rows, then the stream encodings' rows) and bias ``first_b``, FiLM
    included, and the later layers' weights ``rest_w`` (L - 1, H, H) and biases ``rest_b``
    (L - 1, H), each applied as ``x @ w + b``."""

    first_w: Tensor
    first_b: Tensor
    rest_w: Tensor
    rest_b: Tensor


class FilmTrunk(Trunk[FilmWeights]):
    """``layers`` ReLU layers of width H, the first one FiLM-modulated,
    ``relu(scale * (W x + b) + shift)``, with ``scale`` and ``shift`` generated from the robot
    embedding.

    The first layer reads the joints and the stream encodings, both through one code space of
    width C (``joint_code``). Joint j's generated input weights are ``code_j @ basis``
    (``GeneratedWeights``), so the joints' contribution ``sum_j (code_j @ basis)^T x_j`` equals
    ``basis^T y`` with the joint summary ``y = sum_j code_j^T x_j``; the stream encodings ``s``
    are mapped into the same space (``streams``), so the first layer is
    ``basis^T (y + V s) + b``, of rank C. Lifting ``V s`` by the basis already applied to
    ``y`` replaces a full-width product of the stream encodings (and its two backward products)
    with products of width C.

    FiLM modulates only the first layer: every later layer sees its effect, and on a
    multi-robot batch each modulated layer costs a per-sample gather and elementwise work
    forward and backward (about a quarter of an MLP update per network, measured).
    """

    def __init__(self, cfg: NetworkConfig, stream_width: int) -> None:
        super().__init__()
        self.width = cfg.hidden
        self.code_width = cfg.joint_code
        self.film = FilmGenerator(cfg.desc_embed, cfg.hidden)
        self.streams = nn.Linear(stream_width, cfg.joint_code)
        self.bias = nn.Parameter(torch.zeros(cfg.hidden))
        # Entries of variance 1/C give generated weights the variance their codes were
        # initialised for.
        basis = torch.randn(cfg.joint_code, cfg.hidden) / math.sqrt(cfg.joint_code)
        self.basis = nn.Parameter(basis)
        self.layers = nn.ModuleList(
            nn.Linear(cfg.hidden, cfg.hidden) for _ in range(cfg.layers - 1)
        )

    def prepare(self, gen: GeneratedWeights) -> FilmWeights:
        """Per-robot weights from the generator's output."""
        u = gen.morphology.shape[0]
        code = gen.code.reshape(u, -1, self.code_width)
        out = None if gen.out is None else gen.out.reshape(u, -1, self.width + 1)
        return FilmWeights(code, out, self.film(gen.morphology))

    def forward(self, inputs: TrunkInputs, weights: FilmWeights) -> Tensor:
        """The batch as it comes: each sample's robot is ``groups.inverse``, an index into
        ``weights`` (None when the batch is one robot)."""
        joints, present, streams, groups, stems, heads = inputs
        encoded = stems(streams).flatten(1)
        return self._run(joints, present.to(joints.dtype), encoded, groups.inverse, weights, heads)

    def _run(
        self,
        joints: Tensor,
        joint_present: Tensor,
        streams: Tensor,
        robot: Tensor | None,
        weights: FilmWeights,
        heads: nn.Linear,
    ) -> Tensor:
        """``joint_present`` (B, J) 0/1, stream encodings ``streams`` (B, n) and each sample's
        robot ``robot`` (B,) or None."""
        batch = joints.shape[0]
        # Each joint's inputs scaled by joint_scale, then a 1 that reads its bias row.
        scale = joint_scale(joint_present)
        rows = torch.cat([joints * scale.unsqueeze(2), joint_present.unsqueeze(2)], 2).flatten(1)
        select = None
        if robot is not None:
            # In its robot's block of columns, so one product applies every robot's codes.
            select = F.one_hot(robot, weights.code.shape[0]).to(rows.dtype)
            rows = (select.unsqueeze(2) * rows.unsqueeze(1)).flatten(1)
        # The joint summary accumulates in place into the stream map's fresh output, which no
        # backward formula reads.
        summary = self.streams(streams).addmm_(rows, weights.code.flatten(0, 1))
        pre = torch.addmm(self.bias, summary, self.basis)
        film_scale, film_shift = weights.film.chunk(2, dim=1)
        if select is None:
            h = F.relu(pre * film_scale + film_shift, inplace=True)
        else:
            # Products with the robot selector pick each sample's scale and shift.
            h = F.relu(pre.addmm_(select, film_shift) * (select @ film_scale), inplace=True)
        for layer in self.layers:
            h = F.relu(layer(h), inplace=True)
        if weights.out is None:
            return heads(h)
        generated = weights.out.flatten(0, 1)
        out = F.linear(
            h,
            torch.cat([generated[:, :-1], heads.weight]),
            torch.cat([generated[:, -1], heads.bias]),
        )
        if robot is None:
            return out
        # Each sample's own robot's block of per-joint outputs, then the shared heads.
        per_robot, shared = weights.out.shape[1], heads.out_features
        own = robot.unsqueeze(1) * per_robot + torch.arange(per_robot, device=robot.device)
        heads_columns = torch.arange(out.shape[1] - shared, out.shape[1], device=robot.device)
        return out.gather(1, torch.cat([own, heads_columns.expand(batch, -1)], dim=1))

    def fold(self, weights: FilmWeights, mask: Tensor) -> Folded:
        """This trunk with ``weights``, generated for one robot whose joint mask is ``mask``
        (1, J), folded into plain layers. Joint j's input weights are its code's input rows
        times the basis (scaled by 1/sqrt(joints)), its bias its code's last row times the
        basis; the stream encodings enter through the code space too, and the FiLM scale and
        shift fold into the first layer. Call under ``torch.no_grad``."""
        joints, slots = int(mask.sum().item()), mask.shape[1]
        scale, shift = weights.film[0].chunk(2)
        code = weights.code[0].view(slots, JOINT_STATE_DIM + 1, -1)[:joints] @ self.basis
        w_joint = code[:, :-1].flatten(0, 1) * joint_scale(mask)
        stream_w = self.streams.weight.t() @ self.basis
        first_b = code[:, -1].sum(0) + self.streams.bias @ self.basis + self.bias
        layers = list(self.layers)
        if layers:
            rest_w = torch.stack([layer.weight.t() for layer in layers])
            rest_b = torch.stack([layer.bias for layer in layers])
        else:
            rest_w, rest_b = (
                first_b.new_zeros(0, self.width, self.width),
                first_b.new_zeros(0, self.width),
            )
        return Folded(
            torch.cat([w_joint, stream_w]) * scale, first_b * scale + shift, rest_w, rest_b
        )
