"""TQC (sb3-contrib) with DeepWe networks: SAC's actor, and critics that estimate quantiles of
the return. Imported only for ``algo.name: tqc``, so sb3-contrib stays optional."""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from sb3_contrib.tqc.policies import TQCPolicy
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import Tensor, nn

from deepwe_rl.agents.sb3.policies import DeepWeOffPolicy, joint_slots
from deepwe_rl.nn import NetworkConfig, build_quantile_critic


class DeepWeQuantileCritics(BaseModel):
    """``n_critics`` quantile critics; ``forward`` returns (B, n_critics, n_quantiles), the
    layout TQC's loss expects."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        network: dict[str, Any],
        n_quantiles: int = 25,
        n_critics: int = 2,
    ) -> None:
        super().__init__(observation_space, action_space)
        cfg, max_joints = NetworkConfig.saved(network), joint_slots(observation_space)
        self.n_quantiles, self.n_critics = n_quantiles, n_critics
        self.quantiles_total = n_quantiles * n_critics
        self.q_networks = nn.ModuleList(
            build_quantile_critic(cfg, max_joints, n_quantiles) for _ in range(n_critics)
        )

    def forward(self, obs: PyTorchObs, actions: Tensor) -> Tensor:
        return torch.stack([q(obs, actions) for q in self.q_networks], dim=1)


class DeepWeTQCPolicy(DeepWeOffPolicy, TQCPolicy):
    """TQC's actor, quantile critics and target critics, all DeepWe (or a baseline kind)."""

    def _make_critic(self) -> BaseModel:
        return DeepWeQuantileCritics(
            self.observation_space,
            self.action_space,
            self.network,
            self.critic_kwargs["n_quantiles"],
            self.critic_kwargs["n_critics"],
        )

    def _critic_parameters(self) -> dict[str, Any]:
        return {k: self.critic_kwargs[k] for k in ("n_quantiles", "n_critics")}
