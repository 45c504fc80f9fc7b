"""The Gymnasium spaces of the observation contract (deepwe_rl.morphology holds the sizes)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from deepwe_rl.morphology import (
    DEPTH_SHAPE,
    EE_DIM,
    GOAL_DIM,
    GRIPPER_DIM,
    JOINT_DESC_DIM,
    JOINT_STATE_DIM,
    OBJECT_DIM,
    STREAMS,
    action_dim,
)

BOUND = 100.0
"""Bound of the unbounded-in-principle entries (velocities, positions): far beyond any real
value, finite so space checkers and normalisers have a range."""


def _box(shape: tuple[int, ...], low: float = -BOUND, high: float = BOUND) -> spaces.Box:
    return spaces.Box(low, high, shape, dtype=np.float32)


def observation_space(max_joints: int, camera: bool = False) -> spaces.Dict:
    """The same Dict space for every robot and task at a given ``max_joints``."""
    keys: dict[str, spaces.Space] = {
        "joint_state": _box((max_joints, JOINT_STATE_DIM)),
        "joint_desc": _box((max_joints, JOINT_DESC_DIM)),
        "joint_mask": _box((max_joints,), 0.0, 1.0),
        "ee": _box((EE_DIM,)),
        "gripper": _box((GRIPPER_DIM,)),
        "object": _box((OBJECT_DIM,)),
        "stream_mask": _box((len(STREAMS),), 0.0, 1.0),
        "achieved_goal": _box((GOAL_DIM,)),
        "desired_goal": _box((GOAL_DIM,)),
    }
    if camera:
        keys["depth"] = _box(DEPTH_SHAPE, 0.0, 1.0)
    return spaces.Dict(keys)


def action_space(max_joints: int, control: str) -> spaces.Box:
    """Joint control: one command per joint slot plus the gripper. EE control: xyz + gripper."""
    n = action_dim(max_joints) if control == "joints" else 4
    return spaces.Box(-1.0, 1.0, (n,), dtype=np.float32)
