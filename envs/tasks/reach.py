"""Reach: bring the end effector to a goal point."""

from __future__ import annotations

import numpy as np

from deepwe_rl.envs.tasks.base import MIN_RADIUS, Task, workspace

_MIN_GOAL_HEIGHT = 0.05


GOAL_SPREAD = 0.3
"""Goals come from joint configurations within this many radians of the home pose."""


class Reach(Task):
    """Goals are end-effector positions of random joint configurations near the home pose that
    keep every link above the table, so each one is reachable by this robot."""

    name = "Reach"

    def sample(self, rng: np.random.Generator) -> None:
        arm, s = self.arm, self.arm.structure
        for _ in range(200):
            q = np.clip(
                arm.home + rng.uniform(-GOAL_SPREAD, GOAL_SPREAD, arm.num_joints), s.lower, s.upper
            )
            ee, lowest = arm.forward_kinematics(q)
            if lowest >= 0.0 and ee[2] >= _MIN_GOAL_HEIGHT and np.hypot(ee[0], ee[1]) >= MIN_RADIUS:
                self.goal = ee
                return
        points = workspace(self.arm).band(_MIN_GOAL_HEIGHT, np.inf)
        if len(points) == 0:
            raise ValueError(
                f"robot '{self.arm.source.name}' has no reachable point above the table"
            )
        self.goal = points[rng.integers(len(points))].copy()

    def achieved_goal(self) -> np.ndarray:
        return self.arm.ee[0:3].copy()
