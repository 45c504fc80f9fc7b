"""The two DeepWe trunks: how generated per-joint weights and stream encodings become features.

Each trunk turns the hypernetwork's ``GeneratedWeights`` into its own application-ready weights
(``prepare``, once per distinct robot, cacheable) and applies them to a batch (``forward``).
Trunks work on a batch laid out robot by robot (``RobotLayout``: a (U, width, ...) grid), so
each robot's generated weights multiply its own samples in one batched product and per-robot
vectors (FiLM) broadcast: weights are never copied per sample.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.hypernetwork import FilmGenerator, GeneratedWeights
from deepwe_rl.nn.layers import transformer_encoder


class FilmWeights(NamedTuple):
    """The FiLM trunk's generated weights for U robots.

    ``w_in`` (U, J*S, H) and ``b_in`` (U, H) are the joint part of the first layer (the bias
    summed over joints); ``w_out`` (U, H, J*k) and ``b_out`` (U, J*k) the per-joint output
    layer (None without per-joint outputs); ``scale`` and ``shift`` (U, depth, H) the FiLM
    parameters of each trunk layer.
    """

    w_in: Tensor
    b_in: Tensor
    w_out: Tensor | None
    b_out: Tensor | None
    scale: Tensor
    shift: Tensor


def joint_scale(joint_present: Tensor, dtype: torch.dtype) -> Tensor:
    """Per-sample factor 1/sqrt(real joints) ``(..., 1)`` from ``joint_present`` (..., J),
    applied to the joint input rows so that the first layer's sum over joints keeps its scale
    whatever the joint count."""
    return joint_present.sum(-1, keepdim=True).clamp(min=1).to(dtype).rsqrt()


class FilmTrunk(nn.Module):
    """An MLP whose first layer reads every real joint's input row through that joint's
    generated weights plus the stream encodings through shared weights, every layer modulated
    by FiLM from the robot embedding: ``h = relu(scale * (W h + b) + shift)``. Joint rows
    enter scaled by ``joint_scale``."""

    def __init__(self, cfg: NetworkConfig, stream_width: int) -> None:
        super().__init__()
        self.width = cfg.hidden
        self.film = FilmGenerator(cfg.desc_embed, cfg.depth, cfg.hidden)
        self.streams = nn.Linear(stream_width, cfg.hidden)
        self.layers = nn.ModuleList(nn.Linear(cfg.hidden, cfg.hidden) for _ in range(cfg.depth - 1))

    @property
    def in_width(self) -> int:
        """Output width of each joint's generated input weights."""
        return self.width

    @property
    def feature_width(self) -> int:
        """Width of the features the output heads read."""
        return self.width

    def prepare(self, gen: GeneratedWeights) -> FilmWeights:
        u, j, s, h = gen.w_in.shape
        scale, shift = self.film(gen.morphology)
        w_in, b_in = gen.w_in.reshape(u, j * s, h), gen.b_in.sum(1)
        if gen.w_out is None or gen.b_out is None:
            return FilmWeights(w_in, b_in, None, None, scale, shift)
        w_out = gen.w_out.reshape(u, -1, h).transpose(1, 2)
        return FilmWeights(w_in, b_in, w_out, gen.b_out.reshape(u, -1), scale, shift)

    def forward(
        self,
        joints: Tensor,
        joint_present: Tensor,
        streams: Tensor,
        stream_present: Tensor,
        weights: FilmWeights,
    ) -> tuple[Tensor | None, Tensor]:
        """Inputs laid out robot by robot (see ``RobotLayout``): ``joints`` (U, w, J, S),
        ``joint_present`` (U, w, J), ``streams`` (U * w, n, c) and ``stream_present``
        (U, w, n). Returns per-joint outputs (U, w, J, k) (or None) and features (U, w, H).
        Padded joint rows and absent streams already arrive as zeros and generated weights of
        padded joints are zero, so sums over all slots are sums over the real ones;
        ``stream_present`` is not needed."""
        u, w, j, _ = joints.shape
        x = joints.flatten(2) * joint_scale(joint_present, joints.dtype)
        bias = (weights.b_in + self.streams.bias).unsqueeze(1)
        h = torch.baddbmm(bias, x, weights.w_in).view(u * w, -1)
        h = torch.addmm(h, streams.flatten(1), self.streams.weight.t()).view(u, w, -1)
        for i, layer in enumerate([None, *self.layers]):
            pre = h if layer is None else layer(h)
            h = F.relu(pre * weights.scale[:, i, None] + weights.shift[:, i, None])
        if weights.w_out is None or weights.b_out is None:
            return None, h
        out = torch.baddbmm(weights.b_out.unsqueeze(1), h, weights.w_out)
        return out.view(u, w, j, -1), h


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


class AttentionTrunk(nn.Module):
    """A transformer over one token per joint (its input row through its generated
    projection), one per stream and one robot token made from the robot embedding. The robot
    token's output is the feature vector; each joint's output token goes through that joint's
    generated output layer. Padded joints and absent streams are masked out of attention."""

    def __init__(self, cfg: NetworkConfig, stem_width: int) -> None:
        super().__init__()
        self.width = cfg.attn_dim
        self.streams = nn.Linear(stem_width, cfg.attn_dim)
        self.token = nn.Linear(cfg.desc_embed, cfg.attn_dim)
        self.encoder = transformer_encoder(cfg.attn_dim, cfg.attn_heads, cfg.attn_layers)

    @property
    def in_width(self) -> int:
        """Output width of each joint's generated input weights (the token width)."""
        return self.width

    @property
    def feature_width(self) -> int:
        """Width of the features the output heads read."""
        return self.width

    def prepare(self, gen: GeneratedWeights) -> AttentionWeights:
        w_out = None if gen.w_out is None else gen.w_out.transpose(2, 3)
        return AttentionWeights(gen.w_in, gen.b_in, w_out, gen.b_out, self.token(gen.morphology))

    def forward(
        self,
        joints: Tensor,
        joint_present: Tensor,
        streams: Tensor,
        stream_present: Tensor,
        weights: AttentionWeights,
    ) -> tuple[Tensor | None, Tensor]:
        """Inputs laid out robot by robot as for ``FilmTrunk.forward``. Returns per-joint
        outputs (U, w, J, k) (or None) and features (U, w, D)."""
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
