"""A run's trained policy network and the observations of the robots to inspect."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from deepwe_rl.agents.env_factory import env_kwargs
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.transfer.results import category
from deepwe_rl.config import EnvSection
from deepwe_rl.envs.vector import make_env
from deepwe_rl.nn.observation import Obs
from deepwe_rl.nn.policies import Actor, ActorCritic


def policy_module(run: RunDir) -> Actor | ActorCritic:
    """The run's policy (``ActorCritic`` for PPO, ``Actor`` for SAC and TQC) as a torch module
    on the CPU in eval mode: from the final model, else the newest checkpoint."""
    root: nn.Module
    if run.config().backend == "sb3":
        from deepwe_rl.agents.sb3.train import load_model

        root = load_model(run).policy
    else:
        from ray.rllib.core.rl_module.rl_module import RLModule

        from deepwe_rl.agents.rllib.checkpoints import newest_module

        root = RLModule.from_checkpoint(newest_module(run))
    for module in root.modules():
        if isinstance(module, (ActorCritic, Actor)):
            return module.eval()
    raise RuntimeError(f"no DeepWe policy network found in {run.path}")


@dataclass(frozen=True)
class RobotObs:
    """One robot to inspect: its name, its category for this run (``train``, its held-out
    split or ``other``), and observations of it as a batch of float32 tensors. ``task_env`` is
    False when the robot cannot do the run's task and its observations come from Reach."""

    name: str
    category: str
    obs: Obs
    task_env: bool


def robot_observations(
    env: EnvSection, robots: list[str], training: list[str], samples: int = 8
) -> list[RobotObs]:
    """``samples`` observations of each robot: the first of each of ``samples`` episodes (seeds
    0, 1, ...) of the run's task, with the run's env settings. A robot that cannot do the task
    (proc:2:100 cannot push) is observed in Reach instead, which carries the same descriptors.
    Raises what the env raises for a robot that does not load or does not fit ``max_joints``."""
    out = []
    for name in robots:
        task_env = True
        try:
            sim = make_env(env.task, name, **env_kwargs(env))
        except ValueError:
            if env.task == "reach":
                raise
            sim = make_env("reach", name, **env_kwargs(env))
            task_env = False
        try:
            batch = [sim.reset(seed=seed)[0] for seed in range(samples)]
        finally:
            sim.close()
        obs = {
            k: torch.as_tensor(np.stack([b[k] for b in batch]), dtype=torch.float32)
            for k in batch[0]
        }
        out.append(RobotObs(name, category(name, training), obs, task_env))
    return out
