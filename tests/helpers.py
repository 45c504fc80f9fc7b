"""Small helpers the tests share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepwe_rl.envs.manipulation_env import ManipulationEnv
from deepwe_rl.envs.robots.catalog import resolve_robot
from deepwe_rl.envs.robots.structure import load_structure
from deepwe_rl.envs.sim import BulletSim

CANNOT_PUSH = ("proc:2:100", "proc:3:1", "proc:3:2", "proc:3:3")
"""Catalog arms that cannot get behind a cube in front of them (their envs refuse Push)."""

CANNOT_PICK = ("proc:2:100", "proc:3:1", "proc:5:0", "proc:7:2")
"""Catalog arms with a gripper that cannot point it down at a cube in front of them."""

ONE_JAW = ("z1", "so101")
"""Catalog arms whose gripper is one jaw closing on a fixed one: PickAndPlace takes them, but
the scripted expert's grasp (gripper links pressing from opposite sides) misses them."""


def has_gripper(robot: str) -> bool:
    """Whether the named robot's URDF has gripper joints."""
    sim = BulletSim()
    try:
        return len(load_structure(sim.id, resolve_robot(robot)).gripper_joints) > 0
    finally:
        sim.close()


def ik_reaches(
    env: ManipulationEnv, point: np.ndarray, tolerance: float, restarts: int = 40
) -> bool:
    """Whether some joint configuration within the limits puts the end effector within
    ``tolerance`` of ``point``, found by PyBullet's IK from random starts. This search knows
    nothing of how the env drew the point. It moves the arm: reset the env afterwards."""
    arm = env.arm
    rng = np.random.default_rng(0)
    for attempt in range(restarts):
        q = arm.home if attempt == 0 else arm.sample_configuration(rng)
        ee, _ = arm.forward_kinematics(q)
        for _ in range(10):
            q = arm.solve_ik(point, iterations=100)
            ee, _ = arm.forward_kinematics(q)
        if np.linalg.norm(ee - point) < tolerance:
            return True
    return False


def write_user_arm(path: Path) -> Path:
    """A user's 3-joint URDF arm (no gripper): a continuous base joint, a fixed joint, then two
    revolute joints."""
    link = (
        "<link name='{n}'><inertial><mass value='0.5'/><inertia ixx='0.01' iyy='0.01' izz='0.01' "
        "ixy='0' ixz='0' iyz='0'/></inertial><collision><origin xyz='0 0 0.1'/><geometry>"
        "<cylinder radius='0.02' length='0.2'/></geometry></collision></link>"
    )
    joint = (
        "<joint name='{n}' type='{t}'><parent link='{p}'/><child link='{c}'/>"
        "<origin xyz='0 0 {z}'/><axis xyz='{a}'/>"
        "<limit lower='-1.5' upper='1.5' effort='30' velocity='2'/></joint>"
    )
    urdf = "<robot name='user'>" + "".join(link.format(n=n) for n in "abcde")
    urdf += joint.format(n="j1", t="continuous", p="a", c="b", z=0.05, a="0 0 1")
    urdf += joint.format(n="fix", t="fixed", p="b", c="c", z=0.2, a="0 0 1")
    urdf += joint.format(n="j2", t="revolute", p="c", c="d", z=0.0, a="0 1 0")
    urdf += joint.format(n="j3", t="revolute", p="d", c="e", z=0.2, a="0 1 0") + "</robot>"
    path.write_text(urdf)
    return path
