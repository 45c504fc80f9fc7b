"""The RLModule that puts deepwe_rl's actor-critic (any network kind) into RLlib's PPO."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from torch import Tensor

from deepwe_rl.agents import ray_logging
from deepwe_rl.agents.evaluation import Policy
from deepwe_rl.agents.rllib.distribution import INPUTS_PER_SLOT, MaskedDiagGaussian, dist_inputs
from deepwe_rl.config import RunConfig
from deepwe_rl.nn import NetworkConfig, build_actor_critic, ppo_log_std, slot_log_std

# Every process that builds this module (the driver, env runners, learners) imports it first.
ray_logging.drop_rl_module_config_warning()


def module_config(cfg: RunConfig) -> dict[str, Any]:
    """The module's ``model_config``: plain values only, so a saved module loads by itself.
    The depth encoder is built exactly when the envs render depth images."""
    network = cfg.network_config()
    return {
        "network": network.model_dump(),
        "max_joints": cfg.env.max_joints,
        "share_encoder": cfg.network.share_encoder,
        "log_std_init": cfg.algo.log_std_init,
    }


class ActorCriticModule(TorchRLModule, ValueFunctionAPI):
    """PPO's policy and value function, built by ``deepwe_rl.nn.build_actor_critic``.

    Its action-distribution inputs are ``[mean, log_std, mask]`` per action slot, read by
    ``MaskedDiagGaussian``: the network's means, and the learned state-independent log-std of
    SB3's PPO policy (``ppo_log_std``, from ``algo.log_std_init``), not the network's own.
    Rollouts run the policy network only; a training pass runs both networks once and hands
    the values to ``compute_values`` as the "embeddings".
    """

    def setup(self) -> None:
        cfg = self.model_config
        self.model = build_actor_critic(
            NetworkConfig.saved(cfg["network"]), cfg["max_joints"], cfg["share_encoder"]
        )
        self.log_std = ppo_log_std(cfg["log_std_init"])

    def _dist_inputs(self, mean: Tensor, mask: Tensor) -> Tensor:
        return dist_inputs(mean, slot_log_std(self.log_std, mean), mask)

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        policy = self.model.act(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self._dist_inputs(policy.mean, policy.mask)}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = self.model(batch[Columns.OBS])
        return {
            Columns.ACTION_DIST_INPUTS: self._dist_inputs(out.mean, out.mask),
            Columns.EMBEDDINGS: out.value,
        }

    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        """State values (B,): the ones ``_forward_train`` computed, when given."""
        if embeddings is not None:
            return embeddings
        obs = batch[Columns.OBS]
        if self.model.value_net is None:
            return self.model(obs).value
        return self.model.value_net(obs).value

    def get_inference_action_dist_cls(self) -> type[MaskedDiagGaussian]:
        return MaskedDiagGaussian

    def get_exploration_action_dist_cls(self) -> type[MaskedDiagGaussian]:
        return MaskedDiagGaussian

    def get_train_action_dist_cls(self) -> type[MaskedDiagGaussian]:
        return MaskedDiagGaussian


def greedy_policy(module: ActorCriticModule) -> Policy:
    """Deterministic actions from ``module``: the Gaussian mean clipped to [-1, 1], float32
    (B, max_joints + 1) for a batch of numpy observations."""

    def act(obs: dict[str, np.ndarray]) -> np.ndarray:
        batch = {key: torch.as_tensor(value, dtype=torch.float32) for key, value in obs.items()}
        inputs = module.forward_inference({Columns.OBS: batch})[Columns.ACTION_DIST_INPUTS]
        mean = inputs.chunk(INPUTS_PER_SLOT, dim=-1)[0]
        return np.clip(mean.cpu().numpy(), -1.0, 1.0).astype(np.float32)

    return act
