"""DeepWe's optional attention trunk: a transformer over joint, stream and robot tokens.

It works on a batch laid out robot by robot (``RobotLayout``: a (U, width, ...) grid), so each
robot's generated weights multiply its own samples in one batched product.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.grouping import from_grid, robot_layout, to_grid
from deepwe_rl.nn.hypernetwork import GeneratedWeights
from deepwe_rl.nn.layers import transformer_encoder
from deepwe_rl.nn.stems import StreamInputs
from deepwe_rl.nn.trunk import Trunk, TrunkInputs


class AttentionWeights(NamedTuple):
    """The attention trunk's generated weights for U robots: per-joint token projections
    ``w_in`` (U, J, S, D) and ``b_in`` (U, J, D), per-joint output layers ``w_out``
    (U, J, D, k) and ``b_out`` (U, J, k) (None without per-joint outputs) and the robot token
    ``token`` (U, D)."""

    w_in: Tensor
    b_in: Tensor
    w_out: Tensor | None
    b_out: Tensor | None
    token: Tensor


def apply_per_joint(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Per-joint affine maps with robot-specific weights: ``x`` (U, w, J, I), ``weight``
    (U, J, I, O), ``bias`` (U, J, O) -> (U, w, J, O), as one batched product over
    (robot, joint) pairs."""
    u, w, j, i = x.shape
    o = weight.shape[-1]
    rows = x.transpose(1, 2).reshape(u * j, w, i)
    y = torch.baddbmm(bias.reshape(u * j, 1, o), rows, weight.reshape(u * j, i, o))
    return y.view(u, j, w, o).transpose(1, 2)


class AttentionTrunk(Trunk[AttentionWeights]):
    """A transformer over one token per joint (its input row through its generated
    projection, the joint's code times a shared basis), one per stream and one robot token
    made from the robot embedding. The robot token's output is the feature vector; each
    joint's output token goes through that joint's generated output layer. Padded joints and
    absent streams are masked out of attention."""

    def __init__(self, cfg: NetworkConfig, stem_width: int) -> None:
        super().__init__()
        self.width = cfg.attn_dim
        basis = torch.randn(cfg.joint_code, cfg.attn_dim) / math.sqrt(cfg.joint_code)
        self.basis = nn.Parameter(basis)
        self.streams = nn.Linear(stem_width, cfg.attn_dim)
        self.token = nn.Linear(cfg.desc_embed, cfg.attn_dim)
        self.encoder = transformer_encoder(cfg.attn_dim, cfg.attn_heads, cfg.attn_layers)

    def prepare(self, gen: GeneratedWeights) -> AttentionWeights:
        """Per-robot weights from the generator's output."""
        u = gen.morphology.shape[0]
        j = gen.code.shape[0] // u
        projection = gen.code.reshape(u, j, -1, self.basis.shape[0]) @ self.basis
        w_out = b_out = None
        if gen.out is not None:
            out = gen.out.reshape(u, j, -1, self.width + 1)
            w_out, b_out = out[..., :-1].transpose(2, 3), out[..., -1]
        return AttentionWeights(
            projection[:, :, :-1], projection[:, :, -1], w_out, b_out, self.token(gen.morphology)
        )

    def forward(self, inputs: TrunkInputs, weights: AttentionWeights) -> Tensor:
        """The batch laid out robot by robot (a padded grid, ``grouping.RobotLayout``), run,
        and put back in batch order."""
        joints, present, streams, groups, stems, heads = inputs
        layout = (
            None if groups.inverse is None else robot_layout(groups.inverse, groups.rows.shape[0])
        )
        stream_grid = StreamInputs(
            *(None if t is None else to_grid(t, layout).flatten(0, 1) for t in streams)
        )
        grid = to_grid(joints, layout)
        u, w = grid.shape[:2]
        joint_out, features = self._run(
            grid,
            to_grid(present, layout),
            stems(stream_grid),
            stream_grid.present.view(u, w, -1),
            weights,
        )
        out = heads(features)
        if joint_out is not None:
            out = torch.cat([joint_out.flatten(2), out], dim=2)
        return from_grid(out, layout)

    def _run(
        self,
        joints: Tensor,
        joint_present: Tensor,
        streams: Tensor,
        stream_present: Tensor,
        weights: AttentionWeights,
    ) -> tuple[Tensor | None, Tensor]:
        """Inputs laid out robot by robot: ``joints`` (U, w, J, S) with padded rows zero,
        ``joint_present`` (U, w, J), stream encodings ``streams`` (U * w, n, c) and
        ``stream_present`` (U, w, n). Returns per-joint outputs (U, w, J, k) (or None) and
        features (U, w, D)."""
        u, w, j, _ = joints.shape
        joint_tokens = apply_per_joint(joints, weights.w_in, weights.b_in)
        robot = weights.token[:, None, None, :].expand(u, w, 1, -1)
        stream_tokens = self.streams(streams).view(u, w, -1, self.width)
        tokens = torch.cat([robot, joint_tokens, stream_tokens], dim=2).flatten(0, 1)
        valid = torch.cat([joint_present.new_ones(u, w, 1), joint_present, stream_present], 2)
        out = self.encoder(tokens, src_key_padding_mask=~valid.flatten(0, 1))
        out = out.view(u, w, -1, self.width)
        if weights.w_out is None or weights.b_out is None:
            return None, out[:, :, 0]
        joint_out = apply_per_joint(out[:, :, 1 : j + 1], weights.w_out, weights.b_out)
        return joint_out, out[:, :, 0]
