"""Small building blocks shared by every architecture."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn


def mlp(sizes: list[int], final_activation: bool = True) -> nn.Sequential:
    """Linear layers through ``sizes`` with ReLU between them (and after the last one when
    ``final_activation``)."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if final_activation or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def scaled_head(fan_in: int, fan_out: int, gain: float) -> nn.Linear:
    """A linear output head whose initial weights are ``gain`` times the default scale and whose
    bias starts at zero, so initial policy means are small."""
    head = nn.Linear(fan_in, fan_out)
    with torch.no_grad():
        head.weight.mul_(gain)
        head.bias.zero_()
    return head


POLICY_HEAD_GAIN = 0.1
"""Initial scale of every action-mean and log-std output layer relative to the default."""


def transformer_encoder(width: int, heads: int, layers: int) -> nn.TransformerEncoder:
    """A pre-norm transformer encoder without dropout, over ``(B, tokens, width)``."""
    layer = nn.TransformerEncoderLayer(
        width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(
        layer, layers, norm=nn.LayerNorm(width), enable_nested_tensor=False
    )
