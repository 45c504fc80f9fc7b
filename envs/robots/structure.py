"""Load an arm URDF into PyBullet and find its structure: arm chain, gripper joints, end effector.

The arm chain is the chain of movable joints from the base down to the first link where the
tree branches into two or more movable subtrees; the joints below that branch are the gripper.
Fixed joints are skipped. The end effector is the branch link when there is a gripper, otherwise
the last link of the chain, unless the robot source names it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pybullet as p

from deepwe_rl.envs.quiet import c_output_silenced
from deepwe_rl.envs.robots.catalog import RobotSource
from deepwe_rl.envs.robots.errors import RobotLoadError
from deepwe_rl.envs.robots.packages import loadable_urdf

__all__ = ["ArmStructure", "RobotLoadError", "load_structure"]

_MOVABLE = (p.JOINT_REVOLUTE, p.JOINT_PRISMATIC)
_DEFAULT_VELOCITY = 2.0
_DEFAULT_EFFORT = 50.0


@dataclass(frozen=True)
class ArmStructure:
    """Indices and limits of one loaded arm, in PyBullet's joint numbering."""

    body: int
    arm_joints: np.ndarray
    joint_names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray
    gripper_joints: np.ndarray
    gripper_lower: np.ndarray
    gripper_upper: np.ndarray
    gripper_effort: np.ndarray
    gripper_open_at_upper: bool
    ee_link: int
    movable_joints: np.ndarray
    """Every non-fixed joint, in the order PyBullet's IK returns positions for them."""


def _parse(source: RobotSource) -> ET.Element:
    """The URDF's root element; rejects files that are not URDF XML."""
    try:
        root = ET.parse(source.urdf).getroot()
    except ET.ParseError as err:
        raise RobotLoadError(f"malformed URDF {source.urdf}: {err}") from None
    if root.tag != "robot":
        raise RobotLoadError(
            f"malformed URDF {source.urdf}: root element is <{root.tag}>, not <robot>"
        )
    return root


def load_structure(sim_id: int, source: RobotSource) -> ArmStructure:
    """Load the robot with a fixed base at the origin and analyse its joint tree. Its meshes
    are checked, and ``package://`` ones resolved (``packages.loadable_urdf``), first."""
    root = _parse(source)
    continuous = {j.get("name", "") for j in root.iter("joint") if j.get("type") == "continuous"}
    urdf = loadable_urdf(root, source.urdf)
    try:
        with c_output_silenced(1):  # Bullet prints the name of a link without inertia
            body = p.loadURDF(
                str(urdf),
                [0.0, 0.0, 0.0],
                useFixedBase=True,
                flags=p.URDF_USE_INERTIA_FROM_FILE if source.inertia_from_file else 0,
                physicsClientId=sim_id,
            )
    except p.error:
        raise RobotLoadError(
            f"PyBullet could not load URDF {source.urdf} (check its meshes and links)"
        ) from None

    infos = [
        p.getJointInfo(body, j, physicsClientId=sim_id)
        for j in range(p.getNumJoints(body, physicsClientId=sim_id))
    ]
    # A link with no <inertial> is a frame (xArm7's link_eef): massless, as the URDF means it,
    # not the 1 kg and 1 kg m² Bullet gives it.
    frames = {link.get("name") for link in root.iter("link") if link.find("inertial") is None}
    for j, info in enumerate(infos):
        if info[12].decode() in frames:
            p.changeDynamics(
                body, j, mass=0.0, localInertiaDiagonal=[0.0] * 3, physicsClientId=sim_id
            )
    children: dict[int, list[int]] = {}
    for j, info in enumerate(infos):
        children.setdefault(info[16], []).append(j)

    def has_movable(j: int) -> bool:
        return infos[j][2] in _MOVABLE or any(has_movable(c) for c in children.get(j, []))

    arm: list[int] = []
    gripper: list[int] = []
    link, branch = -1, None
    while True:
        subtrees = [c for c in children.get(link, []) if has_movable(c)]
        if len(subtrees) != 1:
            if len(subtrees) > 1:
                branch = link
                stack = list(subtrees)
                while stack:
                    j = stack.pop()
                    if infos[j][2] in _MOVABLE:
                        gripper.append(j)
                    stack += children.get(j, [])
            break
        j = subtrees[0]
        if infos[j][2] in _MOVABLE:
            arm.append(j)
        link = j
    if source.gripper_joints:  # a one-jaw gripper ends the chain: the source names it
        chain = {infos[j][1].decode(): j for j in arm}
        unknown = [n for n in source.gripper_joints if n not in chain]
        if unknown:
            raise RobotLoadError(
                f"gripper joint '{unknown[0]}' not in the arm chain of URDF {source.urdf}"
            )
        jaws = {chain[n] for n in source.gripper_joints}
        arm = [j for j in arm if j not in jaws]
        gripper += jaws
    if not arm:
        raise RobotLoadError(f"URDF {source.urdf} has no movable joints: an arm needs at least one")
    gripper.sort()

    names = {info[12].decode(): j for j, info in enumerate(infos)}
    if source.ee_link is not None:
        if source.ee_link not in names:
            raise RobotLoadError(
                f"end-effector link '{source.ee_link}' not in URDF {source.urdf}; links: "
                + ", ".join(names)
            )
        ee = names[source.ee_link]
    else:
        ee = branch if branch is not None and branch >= 0 else link

    lower, upper = (np.array([infos[j][k] for j in arm], dtype=np.float64) for k in (8, 9))
    unlimited = (upper <= lower) | np.array([infos[j][1].decode() in continuous for j in arm])
    lower[unlimited], upper[unlimited] = -np.pi, np.pi
    velocity = np.array([infos[j][11] or _DEFAULT_VELOCITY for j in arm], dtype=np.float64)
    effort = np.array([infos[j][10] or _DEFAULT_EFFORT for j in arm], dtype=np.float64)
    g_lower = np.array([infos[j][8] for j in gripper], dtype=np.float64)
    g_upper = np.array([infos[j][9] for j in gripper], dtype=np.float64)
    g_effort = np.array([infos[j][10] or _DEFAULT_EFFORT for j in gripper], dtype=np.float64)
    open_at_upper = source.gripper_open_at_upper
    if open_at_upper is None:  # fingers usually slide open; knuckles usually rotate closed
        open_at_upper = bool(gripper) and infos[gripper[0]][2] == p.JOINT_PRISMATIC

    return ArmStructure(
        body=body,
        arm_joints=np.array(arm, dtype=np.int64),
        joint_names=tuple(infos[j][1].decode() for j in arm),
        lower=lower,
        upper=upper,
        velocity=velocity,
        effort=effort,
        gripper_joints=np.array(gripper, dtype=np.int64),
        gripper_lower=g_lower,
        gripper_upper=g_upper,
        gripper_effort=g_effort,
        gripper_open_at_upper=open_at_upper,
        ee_link=ee,
        movable_joints=np.array([j for j, i in enumerate(infos) if i[2] != p.JOINT_FIXED]),
    )
