"""Envs from a config's ``env`` section: the training vector's factories and single envs."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from deepwe_rl.config import EnvSection
from deepwe_rl.envs.vector import EnvFn, env_fns, make_env


def env_kwargs(env: EnvSection) -> dict[str, Any]:
    """ManipulationEnv keyword arguments (plus the time limit) for every robot of a run."""
    return {
        "control": env.control,
        "reward": env.reward,
        "max_joints": env.max_joints,
        "distance_threshold": env.distance_threshold,
        "camera": env.camera,
        "max_episode_steps": env.max_episode_steps,
    }


def training_env_fns(env: EnvSection, robots: list[str]) -> list[EnvFn]:
    """``env.n_envs`` env factories, robots assigned round robin."""
    return env_fns(env.task, robots, env.n_envs, **env_kwargs(env))


def single_env(env: EnvSection, robot: str, **extra: Any) -> gym.Env:
    return make_env(env.task, robot, **env_kwargs(env), **extra)


def why_unable(env: EnvSection, robot: str) -> str | None:
    """Why ``robot`` cannot do the config's task (its env does not build: it cannot reach the
    table, or lacks the gripper the task needs); None when it can."""
    try:
        single_env(env, robot).close()
    except ValueError as err:
        return str(err)
    return None
