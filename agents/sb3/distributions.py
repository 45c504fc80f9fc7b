"""Gaussian action distributions over action slots where masked slots do not exist.

Padded joint slots and a missing gripper add nothing to log-probability or entropy, and their
sampled actions are exactly zero.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_TANH_EPS = 1e-6


class MaskedGaussian:
    """Diagonal Gaussian per action slot (PPO): unbounded samples, the env clips them."""

    def __init__(self, mean: Tensor, log_std: Tensor, mask: Tensor) -> None:
        self.mean, self.log_std, self.mask = mean, log_std, mask
        self.present = mask > 0.5

    def _masked(self, x: Tensor) -> Tensor:
        return torch.where(self.present, x, x.new_zeros(()))

    def sample(self) -> Tensor:
        noise = torch.randn_like(self.mean)
        return self._masked(self.mean + noise * self.log_std.exp())

    def mode(self) -> Tensor:
        return self._masked(self.mean)

    def log_prob(self, actions: Tensor) -> Tensor:
        """Sum over real slots of the per-slot Gaussian log-density, (B,)."""
        z = (actions - self.mean) * torch.exp(-self.log_std)
        per_slot = -0.5 * z * z - self.log_std - _LOG_SQRT_2PI
        return self._masked(per_slot).sum(dim=1)

    def entropy(self) -> Tensor:
        return self._masked(self.log_std + 0.5 + _LOG_SQRT_2PI).sum(dim=1)


class MaskedSquashedGaussian(MaskedGaussian):
    """Gaussian squashed by tanh into [-1, 1] (SAC), with the change-of-variables term."""

    def sample_and_log_prob(self) -> tuple[Tensor, Tensor]:
        """A reparameterised sample and its log-probability, for SAC's actor loss."""
        pre = self.mean + torch.randn_like(self.mean) * self.log_std.exp()
        action = torch.tanh(pre)
        log_prob = super().log_prob(pre) - self._masked(
            torch.log(1.0 - action * action + _TANH_EPS)
        ).sum(dim=1)
        return self._masked(action), log_prob

    def mode(self) -> Tensor:
        return self._masked(torch.tanh(self.mean))
