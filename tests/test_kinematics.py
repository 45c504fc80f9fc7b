"""The Jacobian readout's kinematics, read from observations of real PyBullet arms: the
descriptors' axes are the joints' true axes, and the readout's joint motion is the scripted
expert's."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import deepwe_rl.envs  # noqa: F401  (registers the envs)
from deepwe_rl.envs.experts import TURN_STEP, _pick_target, _push_target, _towards
from deepwe_rl.envs.robots import arm as arm_module
from deepwe_rl.envs.robots.arm import EE_STEP, JOINT_STEP
from deepwe_rl.nn.kinematics import TILT_WEIGHT, ee_jacobian, joint_motion

ARMS = ["panda", "kuka_iiwa", "xarm6", "xarm7", "z1", "so101", "ur5", "proc:3:0", "proc:7:3"]
"""Each maker's arms, the tool-point arms (kuka_iiwa, xarm6, z1) and the three whose URDFs turn
links' inertial frames against their own (xarm7, z1, so101: their axes were once misread)."""


def batch(obs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v[None]) for k, v in obs.items()}


def test_steps_are_equal() -> None:
    """``joint_motion`` works in units of a full step on both sides, and weighs a turn against
    a step as the expert does."""
    assert EE_STEP == JOINT_STEP
    assert TILT_WEIGHT == arm_module.TILT_WEIGHT


@pytest.mark.parametrize("robot", ARMS)
def test_jacobian_is_the_end_effector_motion(robot: str) -> None:
    env = gym.make("deepwe_rl/Push-v0", robot=robot, max_joints=8)
    arm = env.unwrapped.arm
    try:
        for seed in range(2):
            obs, _ = env.reset(seed=seed)
            jac = ee_jacobian(batch(obs))[0].double().numpy()
            assert not jac[:, arm.num_joints :].any()
            start, tip = arm.q.copy(), arm.ee[:3].copy()
            for j in range(arm.num_joints):
                q = start.copy()
                q[j] += 1e-5
                arm.set_joints(q)
                arm.read()
                np.testing.assert_allclose(jac[:, j], (arm.ee[:3] - tip) / 1e-5, atol=1e-2)
            arm.set_joints(start)
            arm.read()
    finally:
        env.close()


def expert_step(env: gym.Env, target: np.ndarray) -> np.ndarray:
    """The expert's end-effector step towards ``target``, in units of a full step."""
    step = target - env.arm.ee[:3]
    return step * min(1.0, EE_STEP / max(float(np.linalg.norm(step)), 1e-9)) / EE_STEP


def off_limits(env: gym.Env) -> bool:
    """Whether no joint is near a limit, where the expert would hold it."""
    limits = env.arm.structure
    return bool(((env.arm.q > limits.lower + 0.05) & (env.arm.q < limits.upper - 0.05)).all())


@pytest.mark.parametrize("robot", ARMS)
def test_readout_of_the_experts_step_is_the_experts_action(robot: str) -> None:
    """Where no joint is held at a limit, the expert's Push action is the readout's joint
    motion of the expert's own end-effector step: the readout needs only that step."""
    env = gym.make("deepwe_rl/Push-v0", robot=robot, max_joints=8)
    u = env.unwrapped
    compared = 0
    try:
        obs, _ = env.reset(seed=0)
        for _ in range(20):
            step = expert_step(u, _push_target(u))
            action = _towards(u, _push_target(u), -1.0)
            n = u.arm.num_joints
            if off_limits(u):
                motion = joint_motion(batch(obs), torch.as_tensor(step[None]).float())
                np.testing.assert_allclose(motion[0, :n].numpy(), action[:n], atol=2e-3)
                compared += 1
            obs, *_ = env.step(action)
    finally:
        env.close()
    assert compared >= 10


@pytest.mark.parametrize("robot", ["panda", "xarm6", "proc:5:22", "proc:7:23"])
def test_readout_of_the_experts_step_and_tilt_is_the_experts_pick_action(robot: str) -> None:
    """``jacobian_tilt``: where no joint is held at a limit, the expert's PickAndPlace action,
    which turns the fingers down on the way to the cube, is the readout's joint motion of the
    expert's own step and tilt."""
    env = gym.make("deepwe_rl/PickAndPlace-v0", robot=robot, max_joints=8)
    u = env.unwrapped
    compared = turned = 0
    try:
        obs, _ = env.reset(seed=0)
        for _ in range(20):
            target, gripper = _pick_target(u)
            tilt = u.arm.turn_upright(TURN_STEP)
            action = _towards(u, target, gripper, tilt)
            n = u.arm.num_joints
            if off_limits(u):
                readout = torch.as_tensor(
                    np.concatenate([expert_step(u, target), tilt / JOINT_STEP])[None]
                ).float()
                motion = joint_motion(batch(obs), readout[:, :3], readout[:, 3:])
                np.testing.assert_allclose(motion[0, :n].numpy(), action[:n], atol=2e-3)
                compared += 1
                turned += bool(np.abs(tilt).max() > 1e-3)
            obs, *_ = env.step(action)
    finally:
        env.close()
    assert compared >= 10 and turned >= 1
