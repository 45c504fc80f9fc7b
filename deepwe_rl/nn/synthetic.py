"""Random but realistic robots and observation batches, for tests and benchmarks of the
networks without a simulator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from deepwe_rl.morphology import (
    STREAM_INDEX,
    JointSpec,
    MorphologySpec,
    joint_state,
    observation_keys,
)
from deepwe_rl.nn.observation import Obs


def random_robot(
    num_joints: int, rng: np.random.Generator, has_gripper: bool = True
) -> MorphologySpec:
    """A serial arm of ``num_joints`` revolute joints with random geometry and limits."""
    joints = []
    height = 0.0
    for i in range(num_joints):
        length = float(rng.uniform(0.05, 0.4))
        axis = np.zeros(3)
        axis[rng.integers(3)] = rng.choice([-1.0, 1.0])
        span = float(rng.uniform(0.5, 1.0) * np.pi)
        joints.append(
            JointSpec(
                name=f"joint{i}",
                origin=(float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.05, 0.05)), height),
                axis=(float(axis[0]), float(axis[1]), float(axis[2])),
                link_length=length,
                lower=-span,
                upper=span,
                velocity_limit=float(rng.uniform(1.0, 3.0)),
                effort_limit=float(rng.uniform(10.0, 100.0)),
            )
        )
        height += length
    return MorphologySpec(f"random{num_joints}", tuple(joints), has_gripper)


def observation_batch(
    robots: Sequence[MorphologySpec],
    max_joints: int,
    rng: np.random.Generator,
    missing: Sequence[str] = (),
    depth: bool = False,
) -> Obs:
    """One observation per entry of ``robots`` (repeat a robot for several samples of it),
    padded to ``max_joints`` with zeros. Streams named in ``missing`` are masked out (their
    values still random); the gripper stream follows each robot's ``has_gripper``. With
    ``depth`` a random depth image is included and marked present."""
    batch = len(robots)
    shapes = {
        name: (batch, *key.shape(max_joints)) for name, key in observation_keys(depth).items()
    }
    state = np.zeros(shapes["joint_state"], np.float32)
    desc = np.zeros(shapes["joint_desc"], np.float32)
    mask = np.zeros(shapes["joint_mask"], np.float32)
    streams = np.ones(shapes["stream_mask"], np.float32)
    streams[:, STREAM_INDEX["depth"]] = float(depth)
    for name in missing:
        streams[:, STREAM_INDEX[name]] = 0.0
    for b, robot in enumerate(robots):
        n = robot.num_joints
        lower = np.array([j.lower for j in robot.joints])
        upper = np.array([j.upper for j in robot.joints])
        velocity = np.array([j.velocity_limit for j in robot.joints])
        q = rng.uniform(lower, upper)
        qd = rng.uniform(-velocity, velocity)
        state[b, :n] = joint_state(q, qd, lower, upper, velocity, rng.uniform(-1, 1, n))
        desc[b], mask[b] = robot.padded_descriptors(max_joints)
        if not robot.has_gripper:
            streams[b, STREAM_INDEX["gripper"]] = 0.0
    obs = {
        "joint_state": state,
        "joint_desc": desc,
        "joint_mask": mask,
        "ee": rng.normal(size=shapes["ee"]),
        "gripper": rng.uniform(0.0, 0.08, shapes["gripper"]),
        "object": rng.normal(size=shapes["object"]),
        "stream_mask": streams,
        "achieved_goal": rng.uniform(-0.5, 0.5, shapes["achieved_goal"]),
        "desired_goal": rng.uniform(-0.5, 0.5, shapes["desired_goal"]),
    }
    if depth:
        obs["depth"] = rng.uniform(0.0, 1.0, shapes["depth"])
    return {k: torch.as_tensor(np.asarray(v, np.float32)) for k, v in obs.items()}


def random_action(obs: Obs, rng: np.random.Generator) -> torch.Tensor:
    """Uniform actions in [-1, 1] for every slot ``(B, J + 1)``, masked slots included."""
    batch, joints = obs["joint_mask"].shape
    return torch.as_tensor(rng.uniform(-1.0, 1.0, (batch, joints + 1)).astype(np.float32))


def repad(obs: Obs, max_joints: int) -> Obs:
    """The same observations with the joint axis zero-padded (or cut) to ``max_joints`` slots;
    the real joints must fit."""
    if bool((obs["joint_mask"][:, max_joints:] > 0).any()):
        raise ValueError(f"a robot in the batch has more than {max_joints} joints")
    out = dict(obs)
    for key in ("joint_state", "joint_desc", "joint_mask"):
        value = obs[key]
        shape = (value.shape[0], max_joints, *value.shape[2:])
        padded = value.new_zeros(shape)
        keep = min(max_joints, value.shape[1])
        padded[:, :keep] = value[:, :keep]
        out[key] = padded
    return out
