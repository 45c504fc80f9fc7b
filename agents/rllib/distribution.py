"""The action distribution of the RLlib backend: a diagonal Gaussian over existing slots only.

Action slots that a robot lacks (padded joints, a missing gripper) are masked out: they add
nothing to log-probability, entropy or KL, and their sampled commands are exactly zero. The
mask travels with the distribution's inputs, ``[mean, log_std, mask]`` per slot, because RLlib
builds distributions from the module's output tensor alone.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.distribution.torch.torch_distribution import (
    TorchDeterministic,
    TorchDistribution,
)
from torch import Tensor

INPUTS_PER_SLOT = 3
"""Mean, log-std and mask."""


def dist_inputs(mean: Tensor, log_std: Tensor, mask: Tensor) -> Tensor:
    """The distribution inputs ``(B, 3 * slots)`` a module emits for a batch."""
    return torch.cat([mean, log_std, mask], dim=-1)


class MaskedDiagGaussian(TorchDistribution):
    """Independent Gaussians per action slot, with the slots where ``mask`` is 0 left out."""

    def __init__(self, loc: Tensor, scale: Tensor, mask: Tensor) -> None:
        self.loc = loc
        self.present = mask > 0.5
        super().__init__(loc=loc, scale=scale)

    def _get_torch_distribution(self, loc: Tensor, scale: Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(loc, scale, validate_args=False)

    def _sum_present(self, per_slot: Tensor) -> Tensor:
        """Sum over existing slots; ``where`` keeps even non-finite masked values out."""
        return torch.where(self.present, per_slot, per_slot.new_zeros(())).sum(-1)

    def _zero_absent(self, actions: Tensor) -> Tensor:
        return torch.where(self.present, actions, actions.new_zeros(()))

    def logp(self, value: Tensor, **kwargs: Any) -> Tensor:
        return self._sum_present(self._dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_present(self._dist.entropy())

    def kl(self, other: MaskedDiagGaussian) -> Tensor:
        return self._sum_present(torch.distributions.kl_divergence(self._dist, other._dist))

    def sample(self, *, sample_shape: torch.Size | None = None) -> Tensor:
        return self._zero_absent(super().sample(sample_shape=sample_shape))

    def rsample(self, *, sample_shape: torch.Size | None = None) -> Tensor:
        return self._zero_absent(super().rsample(sample_shape=sample_shape))

    def to_deterministic(self) -> TorchDeterministic:
        """The mean, which is already zero in the absent slots."""
        return TorchDeterministic(loc=self.loc)

    @staticmethod
    def required_input_dim(space: gym.Space, **kwargs: Any) -> int:
        return INPUTS_PER_SLOT * int(np.prod(space.shape))

    @classmethod
    def from_logits(cls, logits: Tensor, **kwargs: Any) -> MaskedDiagGaussian:
        """From ``dist_inputs`` output: ``[mean, log_std, mask]`` along the last axis."""
        mean, log_std, mask = logits.chunk(INPUTS_PER_SLOT, dim=-1)
        return cls(loc=mean, scale=log_std.exp(), mask=mask)
