"""Env factories for vectorised envs that mix robots: one robot per env slot, round robin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import gymnasium as gym
from gymnasium.wrappers import TimeLimit

from deepwe_rl.envs.manipulation_env import ManipulationEnv

EnvFn = Callable[[], gym.Env]


def make_env(task: str, robot: str, max_episode_steps: int = 50, **kwargs: Any) -> gym.Env:
    """One env with its time limit: what ``gym.make("deepwe_rl/<Task>-v0", ...)`` builds,
    without needing the registry (so subprocesses and Ray workers can call it directly)."""
    return TimeLimit(ManipulationEnv(task=task, robot=robot, **kwargs), max_episode_steps)


def env_fns(
    task: str, robots: Sequence[str], n_envs: int | None = None, **kwargs: Any
) -> list[EnvFn]:
    """Factories for ``n_envs`` envs (default: one per robot), robots assigned round robin."""
    if not robots:
        raise ValueError("robots must name at least one robot")
    n = len(robots) if n_envs is None else n_envs
    if n < 1:
        raise ValueError(f"n_envs must be at least 1, got {n}")
    return [partial(make_env, task, robots[i % len(robots)], **kwargs) for i in range(n)]
