"""DeepWe networks and baselines.

``build_actor_critic`` (PPO), ``build_actor`` and ``build_q_critic`` (SAC) build any
``NetworkConfig.kind``; ``export_policy`` freezes a DeepWe policy for one robot.

The names load on first use, so that reading a run config (``deepwe_rl.nn.config``) does not
import torch: a command given bad input answers in a fraction of a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULES = {
    "NetworkConfig": "config",
    "ExportedPolicy": "export",
    "export_policy": "export",
    "build_actor": "factory",
    "build_actor_critic": "factory",
    "build_q_critic": "factory",
    "build_quantile_critic": "factory",
    "Obs": "observation",
    "action_mask": "observation",
    "Actor": "policies",
    "ActorCritic": "policies",
    "ActorOutput": "policies",
    "PolicyOutput": "policies",
    "QCritic": "policies",
    "ppo_log_std": "policies",
    "slot_log_std": "policies",
}
"""Which module of the package defines each exported name."""


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)


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
