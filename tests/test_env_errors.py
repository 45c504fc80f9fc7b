"""Bad input gets a clear error naming the problem, and never changes the world."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import deepwe_rl.envs  # noqa: F401
from deepwe_rl.envs.robots.structure import RobotLoadError


def make(task: str = "Reach", **kwargs):
    return gym.make(f"deepwe_rl/{task}-v0", **kwargs)


def test_unknown_robot_names_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown robot 'pandaa'.*panda"):
        make(robot="pandaa")


@pytest.mark.parametrize("name", ["proc:9:0", "proc:1:0", "proc:x:1", "proc:3"])
def test_bad_procedural_name(name: str) -> None:
    with pytest.raises(ValueError, match="procedural robot name"):
        make(robot=name)


def test_missing_urdf(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="URDF file not found"):
        make(robot=f"urdf:{tmp_path / 'nope.urdf'}")


def test_malformed_urdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.urdf"
    path.write_text("<robot name='x'><link name='a'></robot>")
    with pytest.raises(RobotLoadError, match="malformed URDF"):
        make(robot=f"urdf:{path}")


def test_urdf_without_movable_joints(tmp_path: Path) -> None:
    path = tmp_path / "rigid.urdf"
    path.write_text(
        "<robot name='rigid'><link name='a'/><link name='b'/>"
        "<joint name='j' type='fixed'><parent link='a'/><child link='b'/></joint></robot>"
    )
    with pytest.raises(RobotLoadError, match="no movable joints"):
        make(robot=f"urdf:{path}")


def test_unknown_ee_link() -> None:
    with pytest.raises(RobotLoadError, match="end-effector link 'tool0'"):
        make(robot="kuka_iiwa", ee_link="tool0")


def test_too_many_joints_for_max_joints() -> None:
    with pytest.raises(ValueError, match="has 7 joints but max_joints=6"):
        make(robot="panda", max_joints=6)


def test_pick_and_place_needs_gripper() -> None:
    with pytest.raises(ValueError, match="no gripper; PickAndPlace needs one"):
        make("PickAndPlace", robot="kuka_iiwa")


@pytest.mark.parametrize(("key", "value"), [("control", "torque"), ("reward", "shaped")])
def test_bad_choice(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"{key}='{value}' is not valid"):
        make(robot="panda", **{key: value})


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(3), r"action has shape \(3,\), expected \(9,\)"),
        (np.full(9, np.nan), "NaN or infinite"),
        (np.array([np.inf] + [0.0] * 8), "NaN or infinite"),
        ("left", "action must be numeric"),
    ],
)
def test_bad_action_rejected_and_state_unchanged(action, message: str) -> None:
    env = make(robot="panda")
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)
    after, *_ = env.step(np.zeros(9))
    reference = make(robot="panda")
    reference.reset(seed=0)
    expected, *_ = reference.step(np.zeros(9))
    for key in obs:
        np.testing.assert_array_equal(after[key], expected[key])
