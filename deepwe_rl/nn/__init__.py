"""DeepWe networks and baselines.

``build_actor_critic`` (PPO), ``build_actor`` and ``build_q_critic`` (SAC) build any
``NetworkConfig.kind``; ``export_policy`` freezes a DeepWe policy for one robot.
"""

from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.export import ExportedPolicy, export_policy
from deepwe_rl.nn.factory import (
    build_actor,
    build_actor_critic,
    build_q_critic,
    build_quantile_critic,
)
from deepwe_rl.nn.observation import Obs, action_mask
from deepwe_rl.nn.policies import (
    Actor,
    ActorCritic,
    ActorOutput,
    PolicyOutput,
    QCritic,
    ppo_log_std,
    slot_log_std,
)

__all__ = [
    "Actor",
    "ActorCritic",
    "ActorOutput",
    "ExportedPolicy",
    "NetworkConfig",
    "Obs",
    "PolicyOutput",
    "QCritic",
    "action_mask",
    "build_actor",
    "build_actor_critic",
    "build_q_critic",
    "build_quantile_critic",
    "export_policy",
    "ppo_log_std",
    "slot_log_std",
]
