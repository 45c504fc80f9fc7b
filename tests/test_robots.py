"""Robots: procedural generation, user URDFs, structure detection, catalog and splits."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pybullet as p
import pytest

import deepwe_rl.envs  # noqa: F401
from deepwe_rl.envs.robots.catalog import REAL_ARMS, SPLITS, catalog_names, split
from deepwe_rl.envs.robots.procedural import proc_urdf_path
from tests.helpers import write_user_arm


def test_procedural_same_name_same_file(tmp_path: Path) -> None:
    a = proc_urdf_path("proc:5:42", tmp_path / "a").read_bytes()
    b = proc_urdf_path("proc:5:42", tmp_path / "b").read_bytes()
    c = proc_urdf_path("proc:5:43", tmp_path / "c").read_bytes()
    assert a == b and a != c


@pytest.mark.parametrize("joints", range(2, 8))
def test_procedural_joint_counts(joints: int) -> None:
    env = gym.make("deepwe_rl/Reach-v0", robot=f"proc:{joints}:7")
    obs, _ = env.reset(seed=0)
    assert env.unwrapped.arm.num_joints == joints
    assert obs["joint_mask"].sum() == joints
    env.close()


def test_procedural_arms_differ_in_geometry() -> None:
    descs = [
        gym.make("deepwe_rl/Reach-v0", robot=f"proc:4:{s}").reset(seed=0)[0]["joint_desc"]
        for s in range(3)
    ]
    assert not np.allclose(descs[0], descs[1]) and not np.allclose(descs[1], descs[2])


REAL_STRUCTURE = {
    "panda": (7, True),
    "kuka_iiwa": (7, False),
    "xarm6": (6, True),
    "ur3": (6, False),
    "ur5": (6, False),
    "ur10": (6, False),
    "xarm7": (7, False),
    "z1": (6, True),
    "so101": (5, True),
    "kinova_jaco2": (6, False),
}
"""Joints and gripper of every real arm in the catalog."""


@pytest.mark.parametrize("name", REAL_STRUCTURE)
def test_real_arms_structure(name: str) -> None:
    """Its joints and gripper, and its home pose: the base on the table, every link above it,
    the end effector in front of the base."""
    env = gym.make("deepwe_rl/Reach-v0", robot=name).unwrapped
    arm = env.arm
    assert (arm.num_joints, arm.has_gripper) == REAL_STRUCTURE[name]
    (_, _, bottom), _ = p.getAABB(arm.body, -1, physicsClientId=env.sim.id)
    assert abs(bottom) < 0.01
    ee, lowest = arm.forward_kinematics(arm.home)
    assert lowest >= 0.0 and ee[2] > 0.05 and ee[0] > 2 * abs(ee[1])
    env.close()


def test_every_real_arm_is_tested() -> None:
    assert set(REAL_STRUCTURE) == set(REAL_ARMS)


def test_user_urdf_with_continuous_joint(tmp_path: Path) -> None:
    """A user's arm: a continuous joint gets +-pi limits, the fixed joint is skipped, and the
    end effector defaults to the last link of the movable chain."""
    path = write_user_arm(tmp_path / "user_arm.urdf")
    env = gym.make("deepwe_rl/Reach-v0", robot=f"urdf:{path}")
    obs, _ = env.reset(seed=0)
    arm = env.unwrapped.arm
    assert arm.structure.joint_names == ("j1", "j2", "j3")
    assert arm.structure.lower[0] == pytest.approx(-np.pi) and arm.structure.upper[
        0
    ] == pytest.approx(np.pi)
    assert arm.structure.ee_link == 3  # link 'e', child of j3
    assert obs["joint_mask"].sum() == 3
    env.step(env.action_space.sample())


def test_catalog_and_splits() -> None:
    names = catalog_names()
    assert set(REAL_ARMS) <= set(names)
    train_counts = {
        gym.make("deepwe_rl/Reach-v0", robot=r).unwrapped.arm.num_joints for r in split("train")
    }
    interp = {
        gym.make("deepwe_rl/Reach-v0", robot=r).unwrapped.arm.num_joints
        for r in split("interpolate")
    }
    extrap = {
        gym.make("deepwe_rl/Reach-v0", robot=r).unwrapped.arm.num_joints
        for r in split("extrapolate")
    }
    proc_train_counts = {
        gym.make("deepwe_rl/Reach-v0", robot=r).unwrapped.arm.num_joints
        for r in split("train")
        if r.startswith("proc:")
    }
    assert interp <= train_counts
    assert not extrap & proc_train_counts
    assert not extrap - {6} & train_counts  # 6 joints: only ur10 and kinova_jaco2 of train
    assert not set(split("train")) & set(split("real-heldout"))
    assert set(SPLITS["real-heldout"]) <= set(REAL_ARMS)
    real_train = {r for r in split("train") if r in REAL_ARMS}
    assert len(real_train) == 4 and {"panda", "kuka_iiwa"} <= real_train
    held_out = SPLITS["real-heldout"]
    assert len(held_out) >= 5 and "xarm6" in held_out
    assert {REAL_STRUCTURE[r][0] for r in held_out} == {5, 6, 7}
    with pytest.raises(ValueError, match="unknown split 'nope'"):
        split("nope")


def test_loading_an_arm_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """Bullet prints the name of a link without inertia (the xArm7's ``link_eef``) on the C
    stdout; it would land in the middle of a ``deepwe-rl transfer`` table."""
    env = gym.make("deepwe_rl/Reach-v0", robot="xarm7")
    env.close()
    assert capfd.readouterr().out == ""
