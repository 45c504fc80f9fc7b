"""The observation contract shared by every environment and every network.

A robot's morphology is summarised by one static descriptor row per joint. Environments
pad these rows (and the per-joint state) to ``max_joints`` with exact zeros, so robots with
different joint counts share one observation space, one replay buffer and one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

JOINT_STATE_DIM = 5
"""Per joint: sin q, cos q, q scaled to [-1, 1] over its limits, q-dot over its velocity limit,
last command."""

JOINT_DESC_DIM = 13
"""Per joint, static: origin (3) and axis (3) in the base frame at zero pose, length of the link
it drives, lower and upper limit over pi, velocity limit, log effort limit, depth in the chain,
and whether it is the last joint of the chain."""

EE_DIM = 10
"""End-effector position (3), orientation quaternion xyzw (4), linear velocity (3)."""

GRIPPER_DIM = 2
"""Gripper opening and opening velocity."""

OBJECT_DIM = 13
"""Object position (3), orientation quaternion xyzw (4), linear (3) and angular (3) velocity."""

GOAL_DIM = 3

DEPTH_SHAPE = (1, 32, 32)
"""Shape of the optional depth image stream."""

STREAMS = ("ee", "gripper", "object", "goal", "depth")
"""Sensor stream kinds, in the order of ``stream_mask``."""

STREAM_INDEX = {name: i for i, name in enumerate(STREAMS)}


@dataclass(frozen=True)
class ObservationKey:
    """One entry of the observation dict. ``size``: one sample's shape (one joint slot's, for a
    ``per_joint`` key, whose leading axis is the ``max_joints`` slots). ``stream``: the sensor
    stream whose ``stream_mask`` column says whether the entry is real, None for entries every
    robot has. ``unit``: entries lie in [0, 1] (masks, the depth image)."""

    size: tuple[int, ...]
    per_joint: bool = False
    stream: str | None = None
    unit: bool = False

    def shape(self, max_joints: int) -> tuple[int, ...]:
        """One sample's shape at ``max_joints`` joint slots."""
        return (max_joints, *self.size) if self.per_joint else self.size


OBSERVATION: dict[str, ObservationKey] = {
    "joint_state": ObservationKey((JOINT_STATE_DIM,), per_joint=True),
    "joint_desc": ObservationKey((JOINT_DESC_DIM,), per_joint=True),
    "joint_mask": ObservationKey((), per_joint=True, unit=True),
    "ee": ObservationKey((EE_DIM,), stream="ee"),
    "gripper": ObservationKey((GRIPPER_DIM,), stream="gripper"),
    "object": ObservationKey((OBJECT_DIM,), stream="object"),
    "stream_mask": ObservationKey((len(STREAMS),), unit=True),
    "achieved_goal": ObservationKey((GOAL_DIM,), stream="goal"),
    "desired_goal": ObservationKey((GOAL_DIM,), stream="goal"),
    "depth": ObservationKey(DEPTH_SHAPE, stream="depth", unit=True),
}
"""The observation layout, the one table of it: every key of the observation dict, in order;
``depth`` only with the camera on (``observation_keys``). The spaces, the env, the synthetic
batches and the networks read their shapes and streams from here."""


def observation_keys(camera: bool) -> dict[str, ObservationKey]:
    """The keys an env emits: all of ``OBSERVATION``, ``depth`` only with the camera on."""
    return {name: key for name, key in OBSERVATION.items() if camera or name != "depth"}


# Scales that bring descriptor entries to roughly unit range. They are fixed constants, never a
# function of max_joints, so the same robot gets the same descriptor at any padding.
_VELOCITY_SCALE = 4.0
_EFFORT_SCALE = 6.0
_DEPTH_SCALE = 8.0


@dataclass(frozen=True)
class JointSpec:
    """One actuated revolute joint of a serial arm, in the base frame at zero pose."""

    name: str
    origin: tuple[float, float, float]
    axis: tuple[float, float, float]
    link_length: float
    lower: float
    upper: float
    velocity_limit: float
    effort_limit: float


@dataclass(frozen=True)
class MorphologySpec:
    """The static build of one robot: its actuated joints and which sensor streams it has."""

    name: str
    joints: tuple[JointSpec, ...]
    has_gripper: bool

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def descriptors(self) -> np.ndarray:
        """Descriptor rows for the real joints, shape ``(num_joints, JOINT_DESC_DIM)``."""
        rows = np.zeros((self.num_joints, JOINT_DESC_DIM), dtype=np.float32)
        for i, j in enumerate(self.joints):
            rows[i, 0:3] = j.origin
            rows[i, 3:6] = j.axis
            rows[i, 6] = j.link_length
            rows[i, 7] = j.lower / np.pi
            rows[i, 8] = j.upper / np.pi
            rows[i, 9] = j.velocity_limit / _VELOCITY_SCALE
            rows[i, 10] = np.log1p(j.effort_limit) / _EFFORT_SCALE
            rows[i, 11] = i / _DEPTH_SCALE
            rows[i, 12] = 1.0 if i == self.num_joints - 1 else 0.0
        return rows

    def padded_descriptors(self, max_joints: int) -> tuple[np.ndarray, np.ndarray]:
        """Descriptors and joint mask padded with exact zeros to ``max_joints`` rows."""
        check_fits(self, max_joints)
        desc = np.zeros((max_joints, JOINT_DESC_DIM), dtype=np.float32)
        desc[: self.num_joints] = self.descriptors()
        mask = np.zeros(max_joints, dtype=np.float32)
        mask[: self.num_joints] = 1.0
        return desc, mask


def check_fits(spec: MorphologySpec, max_joints: int) -> None:
    """Raise a clear error when a robot has more joints than the padded observation holds."""
    if spec.num_joints > max_joints:
        raise ValueError(
            f"robot '{spec.name}' has {spec.num_joints} joints but max_joints={max_joints}; "
            f"raise max_joints to at least {spec.num_joints}"
        )


def action_dim(max_joints: int) -> int:
    """Length of the joint-control action: one command per joint slot plus the gripper."""
    return max_joints + 1


def joint_state(
    q: np.ndarray,
    qd: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    velocity_limit: np.ndarray,
    last_command: np.ndarray,
) -> np.ndarray:
    """Per-joint state rows for the real joints, shape ``(len(q), JOINT_STATE_DIM)``."""
    mid = (upper + lower) / 2.0
    half = np.maximum((upper - lower) / 2.0, 1e-6)
    return np.stack(
        [
            np.sin(q),
            np.cos(q),
            (q - mid) / half,
            qd / np.maximum(velocity_limit, 1e-6),
            last_command,
        ],
        axis=-1,
    ).astype(np.float32)
