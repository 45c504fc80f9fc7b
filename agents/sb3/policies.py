"""SB3 policies built on deepwe_rl.nn, for PPO and SAC, with any network kind.

Saved models are plain SB3 zips: ``PPO.load`` / ``SAC.load`` reopen them in a fresh process as
long as deepwe_rl is importable, because the zip names these classes and the network config.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel, BasePolicy
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.sac.policies import SACPolicy
from torch import Tensor, nn

from deepwe_rl.agents.sb3.distributions import MaskedGaussian, MaskedSquashedGaussian
from deepwe_rl.nn import (
    NetworkConfig,
    build_actor,
    build_actor_critic,
    build_q_critic,
    ppo_log_std,
    slot_log_std,
)


def joint_slots(observation_space: spaces.Space) -> int:
    if (
        not isinstance(observation_space, spaces.Dict)
        or "joint_mask" not in observation_space.spaces
    ):
        raise ValueError("DeepWe policies need the deepwe_rl observation contract (a Dict space)")
    return int(observation_space["joint_mask"].shape[0])


class DeepWePPOPolicy(BasePolicy):
    """PPO's actor-critic with a masked Gaussian over action slots.

    The means come from the network; the log-std is a learned parameter, one for every joint
    slot and one for the gripper, independent of the state (as SB3's own PPO policies). The
    network's generated per-slot log-std made PPO's updates unstable: a small step in the
    hypernetwork moves every robot's exploration noise at once.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        network: dict[str, Any] | None = None,
        share_encoder: bool = False,
        log_std_init: float = 0.0,
        use_sde: bool = False,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if use_sde:
            raise ValueError("DeepWe policies do not support gSDE")
        super().__init__(
            observation_space,
            action_space,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
        )
        self.network = dict(network or {})
        self.share_encoder = share_encoder
        self.log_std_init = log_std_init
        self.net = build_actor_critic(
            NetworkConfig.saved(self.network), joint_slots(observation_space), share_encoder
        )
        self.log_std = ppo_log_std(log_std_init)
        self.optimizer = self.optimizer_class(
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            network=self.network, share_encoder=self.share_encoder, log_std_init=self.log_std_init
        )
        return data

    def _distribution_and_value(self, obs: PyTorchObs) -> tuple[MaskedGaussian, Tensor]:
        out = self.net(obs)
        return MaskedGaussian(out.mean, slot_log_std(self.log_std, out.mean), out.mask), out.value

    def forward(
        self, obs: PyTorchObs, deterministic: bool = False
    ) -> tuple[Tensor, Tensor, Tensor]:
        dist, value = self._distribution_and_value(obs)
        actions = dist.mode() if deterministic else dist.sample()
        return actions, value.unsqueeze(-1), dist.log_prob(actions)

    def evaluate_actions(self, obs: PyTorchObs, actions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        dist, value = self._distribution_and_value(obs)
        return value.unsqueeze(-1), dist.log_prob(actions), dist.entropy()

    def predict_values(self, obs: PyTorchObs) -> Tensor:
        return self.net(obs).value.unsqueeze(-1)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> Tensor:
        dist, _ = self._distribution_and_value(observation)
        return dist.mode() if deterministic else dist.sample()


class DeepWeSACActor(BasePolicy):
    """SAC's actor: a masked tanh-squashed Gaussian over action slots."""

    def __init__(
        self, observation_space: spaces.Space, action_space: spaces.Box, network: dict[str, Any]
    ) -> None:
        super().__init__(observation_space, action_space, squash_output=True)
        self.net = build_actor(NetworkConfig.saved(network), joint_slots(observation_space))

    def _distribution(self, obs: PyTorchObs) -> MaskedSquashedGaussian:
        out = self.net(obs)
        return MaskedSquashedGaussian(out.mean, out.log_std, out.mask)

    def forward(self, obs: PyTorchObs, deterministic: bool = False) -> Tensor:
        dist = self._distribution(obs)
        return dist.mode() if deterministic else dist.sample_and_log_prob()[0]

    def action_log_prob(self, obs: PyTorchObs) -> tuple[Tensor, Tensor]:
        return self._distribution(obs).sample_and_log_prob()

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> Tensor:
        return self(observation, deterministic)


class DeepWeQCritics(BaseModel):
    """``n_critics`` independent Q functions; ``forward`` returns their (B, 1) values."""

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        network: dict[str, Any],
        n_critics: int = 2,
    ) -> None:
        super().__init__(observation_space, action_space)
        cfg, max_joints = NetworkConfig.saved(network), joint_slots(observation_space)
        self.q_networks = nn.ModuleList(build_q_critic(cfg, max_joints) for _ in range(n_critics))

    def forward(self, obs: PyTorchObs, actions: Tensor) -> tuple[Tensor, ...]:
        return tuple(q(obs, actions).unsqueeze(-1) for q in self.q_networks)


class DeepWeOffPolicy:
    """What SAC's and TQC's DeepWe policies share: a DeepWe actor, a critic and a target
    critic, each with its own optimizer, set by the policy's ``network`` dict. Subclasses say
    how to make a critic and which constructor parameters they add; ``critic`` keyword
    arguments (``n_critics``, TQC's ``n_quantiles``) go to the SB3 policy, with its defaults."""

    network: dict[str, Any]

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        network: dict[str, Any] | None = None,
        use_sde: bool = False,
        optimizer_class: type[torch.optim.Optimizer] = torch.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        **critic: int,
    ) -> None:
        if use_sde:
            raise ValueError("DeepWe policies do not support gSDE")
        self.network = dict(network or {})  # read by _build, which the parent constructor calls
        super().__init__(  # type: ignore[call-arg]
            observation_space,
            action_space,
            lr_schedule,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            **critic,
        )

    def _make_critic(self) -> BaseModel:
        raise NotImplementedError

    def _critic_parameters(self) -> dict[str, Any]:
        raise NotImplementedError

    def _build(self, lr_schedule: Schedule) -> None:
        policy: Any = self
        policy.actor = DeepWeSACActor(policy.observation_space, policy.action_space, self.network)
        policy.actor.optimizer = policy.optimizer_class(
            policy.actor.parameters(), lr=lr_schedule(1), **policy.optimizer_kwargs
        )
        policy.critic = self._make_critic()
        policy.critic.optimizer = policy.optimizer_class(
            policy.critic.parameters(), lr=lr_schedule(1), **policy.optimizer_kwargs
        )
        policy.critic_target = self._make_critic()
        policy.critic_target.load_state_dict(policy.critic.state_dict())
        policy.critic_target.set_training_mode(False)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        policy: Any = self
        return {
            "observation_space": policy.observation_space,
            "action_space": policy.action_space,
            "lr_schedule": policy._dummy_schedule,
            "network": self.network,
            "optimizer_class": policy.optimizer_class,
            "optimizer_kwargs": policy.optimizer_kwargs,
            **self._critic_parameters(),
        }


class DeepWeSACPolicy(DeepWeOffPolicy, SACPolicy):
    """SAC's actor, critics and target critics, all DeepWe (or a baseline kind)."""

    def _make_critic(self) -> BaseModel:
        n = self.critic_kwargs["n_critics"]
        return DeepWeQCritics(self.observation_space, self.action_space, self.network, n)

    def _critic_parameters(self) -> dict[str, Any]:
        return {"n_critics": self.critic_kwargs["n_critics"]}
