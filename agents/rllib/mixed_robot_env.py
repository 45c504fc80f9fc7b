"""The env RLlib's env runners build: robots round robin over all sub-envs of all runners."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
from ray.rllib.env.env_context import EnvContext

from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.config import EnvSection


def env_config(env: EnvSection, robots: Sequence[str], envs_per_runner: int) -> dict[str, Any]:
    """RLlib's ``env_config`` for ``MixedRobotEnv``: plain values, as checkpoints store it."""
    return {
        "env": env.model_dump(mode="json"),
        "robots": list(robots),
        "envs_per_runner": envs_per_runner,
    }


def robot_for(
    robots: Sequence[str], envs_per_runner: int, worker_index: int, vector_index: int
) -> str:
    """The robot of sub-env ``vector_index`` of env runner ``worker_index``.

    Sub-env ``v`` of runner ``w`` is global slot ``(w - 1) * envs_per_runner + v`` and drives
    ``robots[slot % len(robots)]``. Remote runners have ``w >= 1``; the driver's runner
    (``w == 0``) samples only when there are no remote runners, and takes slots from 0.
    """
    slot = (max(worker_index, 1) - 1) * envs_per_runner + vector_index
    return robots[slot % len(robots)]


class MixedRobotEnv(gym.Wrapper):
    """One sub-env of an env runner, driving the robot ``robot_for`` assigns to its slot.

    A runner builds its gymnasium vector ("sync" mode) by constructing this class once per
    sub-env, in order, from an ``EnvContext`` that names the runner (``worker_index``) but not
    the sub-env (``vector_index`` stays 0 in RLlib's new API stack). So the class counts the
    sub-envs built in the runner's process: the k-th is sub-env ``k % envs_per_runner``.
    """

    built: ClassVar[int] = 0
    """Sub-envs constructed in this process."""

    def __init__(self, config: EnvContext) -> None:
        per_runner = config["envs_per_runner"]
        vector_index = MixedRobotEnv.built % per_runner
        MixedRobotEnv.built += 1
        robot = robot_for(config["robots"], per_runner, config.worker_index, vector_index)
        super().__init__(single_env(EnvSection.model_validate(config["env"]), robot))
