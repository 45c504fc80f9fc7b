"""Push and PickAndPlace: calibrated start and goal draws, and a scripted expert for each."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import deepwe_rl.envs  # noqa: F401  (registers the envs)
from deepwe_rl.envs.experts import expert_action
from deepwe_rl.envs.robots.catalog import HELD_OUT, split
from deepwe_rl.envs.tasks.base import OBJECT_RANGE, PUSH_CLEARANCE, push_direction
from deepwe_rl.envs.tasks.pick_and_place import GOAL_HEIGHT, HOVER
from tests.helpers import CANNOT_PICK, CANNOT_PUSH, ONE_JAW, has_gripper

PUSH_ARMS = [
    *split("push-train"),
    *(r for s in HELD_OUT for r in split(s) if r not in CANNOT_PUSH),
]
"""Every arm a Push run trains on or is evaluated on by default."""

PICK_ARMS = [
    *split("pick-train"),
    *(
        r
        for s in HELD_OUT
        for r in split(s)
        if has_gripper(r) and r not in CANNOT_PICK and r not in ONE_JAW
    ),
]
"""Every arm a PickAndPlace run trains on or is evaluated on by default, less the one-jaw
grippers the scripted expert cannot grasp with."""


def _episode(env: gym.Env, seed: int) -> bool:
    env.reset(seed=seed)
    for _ in range(env.spec.max_episode_steps):
        _, _, terminated, truncated, info = env.step(expert_action(env.unwrapped))
        if terminated or truncated:
            break
    return bool(info["is_success"])


@pytest.mark.parametrize("robot", PUSH_ARMS)
def test_push_draws_are_calibrated_and_reachable_from_behind(robot: str) -> None:
    env = gym.make("deepwe_rl/Push-v0", robot=robot)
    task = env.unwrapped.task
    distances = []
    for seed in range(30):
        obs, info = env.reset(seed=seed)
        start, goal = obs["achieved_goal"], obs["desired_goal"]
        distances.append(np.linalg.norm(goal - start))
        for point in (start, goal):
            assert np.all(np.abs(point[:2] - task.region.center) <= task.region.half_width + 1e-9)
        assert goal[2] == start[2] == pytest.approx(task.half_size, abs=1e-3)
        assert distances[-1] > env.unwrapped.task.distance_threshold  # not solved at reset
        behind = start - push_direction(start, goal) * PUSH_CLEARANCE
        assert env.unwrapped.arm.reaches(behind)
        assert info["region_half_width"] == task.region.half_width
    # panda-gym v3's square: cube-to-goal median 0.16 m, p90 0.26 m; never wider than it.
    assert task.region.half_width <= OBJECT_RANGE
    assert np.median(distances) < 0.2
    env.close()


def test_panda_push_matches_panda_gym() -> None:
    env = gym.make("deepwe_rl/Push-v0", robot="panda")
    d = [
        np.linalg.norm(o["desired_goal"] - o["achieved_goal"])
        for o in (env.reset(seed=s)[0] for s in range(200))
    ]
    assert np.median(d) == pytest.approx(0.16, abs=0.03)
    assert np.percentile(d, 90) == pytest.approx(0.26, abs=0.04)
    env.close()


@pytest.mark.parametrize(
    ("task", "robot"),
    [*(("Push", r) for r in PUSH_ARMS), *(("PickAndPlace", r) for r in PICK_ARMS)],
)
def test_expert_solves_the_task(task: str, robot: str) -> None:
    env = gym.make(f"deepwe_rl/{task}-v0", robot=robot, control="joints")
    successes = [_episode(env, seed) for seed in range(20)]
    env.close()
    assert np.mean(successes) >= 0.9, successes


@pytest.mark.parametrize(
    ("task", "robot", "reason"),
    [
        *(("Push", r, "cannot reach the cube and goal in front of it") for r in CANNOT_PUSH),
        *(("PickAndPlace", r, "cannot point its gripper down at the table") for r in CANNOT_PICK),
    ],
)
def test_arms_that_cannot_do_the_task_are_refused(task: str, robot: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        gym.make(f"deepwe_rl/{task}-v0", robot=robot)


@pytest.mark.parametrize("robot", PICK_ARMS)
def test_pick_draws_are_calibrated_and_grasped_from_above(robot: str) -> None:
    env = gym.make("deepwe_rl/PickAndPlace-v0", robot=robot)
    task = env.unwrapped.task
    arm = env.unwrapped.arm
    lifts = []
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        start, goal = obs["achieved_goal"], obs["desired_goal"]
        for point in (start, goal):
            assert np.all(np.abs(point[:2] - task.region.center) <= task.region.half_width + 1e-6)
        lifts.append(goal[2] - task.half_size)
        assert -1e-6 <= lifts[-1] <= GOAL_HEIGHT + 1e-6
        for point in (start, start + np.array([0.0, 0.0, HOVER])):
            assert arm.reaches(point, upright=True)
        assert arm.reaches(goal)
    assert 0 < sum(lift < 1e-6 for lift in lifts) < len(lifts)  # some goals on the table
    assert task.region.half_width <= OBJECT_RANGE
    env.close()
