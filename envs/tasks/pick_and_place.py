"""Pick and place: lift a cube from the table to a goal that may be in the air."""

from __future__ import annotations

import numpy as np
from deepwe_rl.envs.robots.arm import Arm
from deepwe_rl.envs.sim import BulletSim
from deepwe_rl.envs.tasks.base import ObjectTask

GOAL_HEIGHT = 0.2
"""Goals in the air lie up to this far (metres) above the cube's resting height, as panda-gym v3."""

TABLE_GOALS = 0.3
"""The share of goals on the table itself, as panda-gym v3."""

HOVER = 0.08
"""Height (metres) above the cube from which a gripper comes down on it."""


class PickAndPlace(ObjectTask):
    """The cube starts in the arm's table square; the goal lies over the same square, on the
    table for 30% of episodes and otherwise up to 0.2 m above it. Every draw is reachable: the
    cube, the point above it, and the goal."""

    name = "PickAndPlace"
    needs_gripper = True

    def __init__(self, sim: BulletSim, arm: Arm, reward: str, distance_threshold: float) -> None:
        if not arm.has_gripper:
            raise ValueError(
                f"robot '{arm.source.name}' has no gripper; PickAndPlace needs one "
                "(try panda, xarm6 or a proc arm with a gripper)"
            )
        super().__init__(sim, arm, reward, distance_threshold)

    def _draw_goal(self, rng: np.random.Generator) -> np.ndarray:
        lift = 0.0 if rng.random() < TABLE_GOALS else rng.uniform(0.0, GOAL_HEIGHT)
        return self.region.draw(rng, self.half_size + lift)

    def _feasible(self, start: np.ndarray, goal: np.ndarray) -> bool:
        above = start + np.array([0.0, 0.0, HOVER])
        return all(self.arm.reaches(point) for point in (start, above, goal))
