"""DeepWe networks and baselines.

``build_actor_critic`` (PPO), ``build_actor`` and ``build_q_critic`` (SAC) build any
``NetworkConfig.kind``; ``export_policy`` freezes a DeepWe policy for one robot.

The names load on first use, so that reading a run config (``deepwe_rl.nn.config``) does not
import torch: a command given bad input answers in a fraction of a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deepwe_rl.nn.config import NetworkConfig

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """The names that need torch, imported on first use."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from deepwe_rl.nn import export, factory, observation, policies

    for module in (export, factory, observation, policies):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
