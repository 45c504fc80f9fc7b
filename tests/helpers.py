"""Small helpers the tests share."""

from __future__ import annotations

import numpy as np
import pybullet as p
from deepwe_rl.envs.manipulation_env import ManipulationEnv


def ik_reaches(
    env: ManipulationEnv, point: np.ndarray, tolerance: float, restarts: int = 40
) -> bool:
    """Whether some joint configuration within the limits puts the end effector within
    ``tolerance`` of ``point``, found by PyBullet's IK from random starts. This search knows
    nothing of how the env drew the point. It moves the arm: reset the env afterwards."""
    arm, s = env.arm, env.arm.structure
    rng = np.random.default_rng(0)
    for attempt in range(restarts):
        q = arm.home if attempt == 0 else arm.sample_configuration(rng)
        ee, _ = arm.forward_kinematics(q)
        for _ in range(10):
            sol = p.calculateInverseKinematics(
                arm.body,
                int(s.ee_link),
                point.tolist(),
                maxNumIterations=100,
                residualThreshold=1e-4,
                physicsClientId=arm.sim_id,
            )
            q = np.clip(np.asarray(sol)[arm.ik_index], s.lower, s.upper)
            ee, _ = arm.forward_kinematics(q)
        if np.linalg.norm(ee - point) < tolerance:
            return True
    return False
