"""The Gymnasium spaces of the observation contract (``deepwe_rl.morphology.OBSERVATION``
holds its layout)."""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from deepwe_rl.morphology import action_dim, observation_keys

BOUND = 100.0
"""Bound of the unbounded-in-principle entries (velocities, positions): far beyond any real
value, finite so space checkers and normalisers have a range."""


def _box(shape: tuple[int, ...], low: float = -BOUND, high: float = BOUND) -> spaces.Box:
    return spaces.Box(low, high, shape, dtype=np.float32)


def observation_space(max_joints: int, camera: bool = False) -> spaces.Dict:
    """The same Dict space for every robot and task at a given ``max_joints``."""
    return spaces.Dict(
        {
            name: _box(key.shape(max_joints), 0.0, 1.0) if key.unit else _box(key.shape(max_joints))
            for name, key in observation_keys(camera).items()
        }
    )


def action_space(max_joints: int, control: str) -> spaces.Box:
    """Joint control: one command per joint slot plus the gripper. EE control: xyz + gripper."""
    n = action_dim(max_joints) if control == "joints" else 4
    return spaces.Box(-1.0, 1.0, (n,), dtype=np.float32)
