"""The observation contract, for every robot in the catalog."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import deepwe_rl.envs  # noqa: F401  (registers the envs)
from deepwe_rl.envs.robots.catalog import catalog_names
from deepwe_rl.morphology import STREAM_INDEX

ROBOTS = catalog_names()


def make(task: str = "Reach", **kwargs):
    return gym.make(f"deepwe_rl/{task}-v0", **kwargs)


def test_same_space_for_every_robot() -> None:
    spaces = set()
    for robot in ROBOTS:
        env = make(robot=robot)
        spaces.add(repr(env.observation_space))
        env.close()
    assert len(spaces) == 1


@pytest.mark.parametrize("robot", ["panda", "kuka_iiwa", "xarm6", "proc:2:100", "proc:5:0"])
def test_padding_rows_zero_and_descriptors_constant(robot: str) -> None:
    env = make(robot=robot)
    obs, _ = env.reset(seed=3)
    n = int(obs["joint_mask"].sum())
    assert n == env.unwrapped.arm.num_joints
    assert np.all(obs["joint_mask"][:n] == 1.0)
    desc0 = obs["joint_desc"].copy()
    for _ in range(20):
        obs, *_ = env.step(env.action_space.sample())
        for key in ("joint_state", "joint_desc"):
            assert np.all(obs[key][n:] == 0.0), key
        assert np.array_equal(obs["joint_desc"], desc0)
        assert env.observation_space.contains(obs)
    env.close()


def test_stream_mask_tells_real_streams() -> None:
    kuka = make(robot="kuka_iiwa").reset(seed=0)[0]
    panda_push = make("Push", robot="panda").reset(seed=0)[0]
    assert kuka["stream_mask"][STREAM_INDEX["gripper"]] == 0.0
    assert np.all(kuka["gripper"] == 0.0)
    assert kuka["stream_mask"][STREAM_INDEX["object"]] == 0.0
    assert np.all(kuka["object"] == 0.0)
    assert panda_push["stream_mask"][STREAM_INDEX["gripper"]] == 1.0
    assert panda_push["stream_mask"][STREAM_INDEX["object"]] == 1.0
    assert np.any(panda_push["object"] != 0.0)
    assert kuka["stream_mask"][STREAM_INDEX["depth"]] == 0.0


def test_camera_adds_depth_stream() -> None:
    env = make(robot="panda", camera=True)
    obs, _ = env.reset(seed=0)
    assert obs["depth"].shape == (1, 32, 32)
    assert obs["stream_mask"][STREAM_INDEX["depth"]] == 1.0
    assert 0.0 < obs["depth"].min() < obs["depth"].max() <= 1.0
    env.close()


def test_rgb_render_headless() -> None:
    env = make(robot="xarm6", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (480, 480, 3) and frame.dtype == np.uint8
    assert frame.std() > 5  # an actual scene, not a blank image
    env.close()


@pytest.mark.parametrize("robot", ["panda", "kuka_iiwa", "proc:2:0", "proc:4:1", "proc:7:3"])
def test_same_seed_same_trajectory(robot: str) -> None:
    def rollout() -> np.ndarray:
        env = make(robot=robot)
        env.action_space.seed(7)
        obs, _ = env.reset(seed=11)
        trace = [obs["joint_state"], obs["desired_goal"]]
        for _ in range(30):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trace += [obs["joint_state"], obs["ee"], np.array([reward])]
            if terminated or truncated:
                obs, _ = env.reset()
        env.close()
        return np.concatenate([t.ravel() for t in trace])

    assert np.array_equal(rollout(), rollout())


def test_success_terminates_and_reward_is_vectorised() -> None:
    env = make(robot="panda", reward="sparse")
    obs, _ = env.reset(seed=0)
    unwrapped = env.unwrapped
    achieved = np.stack([obs["desired_goal"], obs["desired_goal"] + 1.0])
    desired = np.stack([obs["desired_goal"], obs["desired_goal"]])
    assert unwrapped.compute_reward(achieved, desired, {}).tolist() == [0.0, -1.0]
    dense = make(robot="panda", reward="dense").unwrapped
    assert dense.compute_reward(achieved, desired, {})[1] == pytest.approx(-np.sqrt(3), rel=1e-5)
    # Put the goal on the end effector: the next step succeeds and terminates.
    unwrapped.task.goal = unwrapped.arm.ee[0:3].copy()
    _, reward, terminated, _, info = env.step(np.zeros(env.action_space.shape))
    assert terminated and info["is_success"] and reward == 0.0


def test_time_limit_is_fifty_steps() -> None:
    env = make(robot="kuka_iiwa")
    env.reset(seed=0)
    steps = 0
    truncated = False
    while not truncated:
        *_, terminated, truncated, _ = env.step(np.zeros(env.action_space.shape))
        steps += 1
        assert not terminated, "reached the goal by standing still"
    assert steps == 50
