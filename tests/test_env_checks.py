"""Gymnasium's and SB3's env checkers, and goal reachability, for every valid combination."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import deepwe_rl.envs  # noqa: F401
from deepwe_rl.envs.robots.catalog import catalog_names
from deepwe_rl.envs.tasks.base import PUSH_CLEARANCE, push_direction
from tests.helpers import CANNOT_PICK, CANNOT_PUSH, has_gripper, ik_reaches

ROBOTS = catalog_names()


PUSHERS = [r for r in ROBOTS if r not in CANNOT_PUSH]
PICKERS = [r for r in ROBOTS if has_gripper(r) and r not in CANNOT_PICK]
COMBOS = [
    (task, robot, control)
    for task, robots in (("Reach", ROBOTS), ("Push", PUSHERS), ("PickAndPlace", PICKERS))
    for robot in robots
    for control in ("joints", "ee")
]


@pytest.mark.parametrize(("task", "robot", "control"), COMBOS)
def test_env_checkers_pass(task: str, robot: str, control: str) -> None:
    env = gym.make(f"deepwe_rl/{task}-v0", robot=robot, control=control)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        # SB3 advises a custom policy for (joints, features) observations: DeepWe is one.
        warnings.filterwarnings("ignore", message=".*unconventional shape")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped, warn=True)
    env.close()


@pytest.mark.parametrize("robot", ROBOTS)
def test_reach_goals_are_reachable(robot: str) -> None:
    env = gym.make("deepwe_rl/Reach-v0", robot=robot).unwrapped
    for seed in range(4):
        obs, _ = env.reset(seed=seed)
        goal = obs["desired_goal"].astype(np.float64)
        assert ik_reaches(env, goal, env.task.distance_threshold), f"goal {goal} out of reach"
    env.close()


@pytest.mark.parametrize("robot", PUSHERS)
def test_push_object_and_goal_within_reach(robot: str) -> None:
    env = gym.make("deepwe_rl/Push-v0", robot=robot).unwrapped
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        start, goal = obs["object"][:3].astype(np.float64), obs["desired_goal"].astype(np.float64)
        back = push_direction(start, goal) * PUSH_CLEARANCE
        for point in (start - back, goal - back):
            # The end effector must get behind the cube, at its height, to push it.
            assert ik_reaches(env, point, 0.03), f"{point} out of reach"
    env.close()
