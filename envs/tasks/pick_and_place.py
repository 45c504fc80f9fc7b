"""Pick and place: lift a cube from the table to a goal that may be in the air."""

from __future__ import annotations

import numpy as np

from deepwe_rl.envs.robots.arm import Arm
from deepwe_rl.envs.sim import BulletSim
from deepwe_rl.envs.tasks.base import MIN_RADIUS, ObjectTask, TableRegion

GOAL_HEIGHT = 0.2
"""Goals in the air lie up to this far (metres) above the cube's resting height, as panda-gym v3."""

TABLE_GOALS = 0.3
"""The share of goals on the table itself, as panda-gym v3."""

HOVER = 0.08
"""Height (metres) above the cube from which a gripper comes down on it."""

_SCAN = 0.02
"""Spacing (metres) of the radii at which a PickAndPlace arm's grasp from above is tried."""


class PickAndPlace(ObjectTask):
    """The cube starts in the arm's table square; the goal lies over the same square, on the
    table for 30% of episodes and otherwise up to 0.2 m above it. Every draw is reachable: the
    cube, the point above it, and the goal."""

    name = "PickAndPlace"

    def __init__(self, sim: BulletSim, arm: Arm, reward: str, distance_threshold: float) -> None:
        if not arm.has_gripper:
            raise ValueError(
                f"robot '{arm.source.name}' has no gripper; PickAndPlace needs one "
                "(try panda, xarm6 or a proc arm with a gripper)"
            )
        super().__init__(sim, arm, reward, distance_threshold)

    def _region(self, table: np.ndarray) -> TableRegion:
        """Along +x, the longest run of radii (every ``_SCAN`` metres) where the gripper comes
        down on the cube with its fingers pointing down."""
        far = float(np.hypot(table[:, 0], table[:, 1]).max())
        runs: list[list[float]] = [[]]
        for radius in np.arange(MIN_RADIUS, far, _SCAN):
            if self._grasps(np.array([radius, 0.0, self.half_size])):
                runs[-1].append(float(radius))
            elif runs[-1]:
                runs.append([])
        longest = max(runs, key=len)
        if len(longest) < 2:
            raise ValueError(
                f"robot '{self.arm.source.name}' cannot point its gripper down at the table, "
                "so it cannot do PickAndPlace"
            )
        return TableRegion.between(longest[0], longest[-1])

    def _grasps(self, cube: np.ndarray) -> bool:
        """Whether the gripper reaches the cube, and the point ``HOVER`` above it, upright."""
        above = cube + np.array([0.0, 0.0, HOVER])
        return self.arm.reaches(above, upright=True) and self.arm.reaches(cube, upright=True)

    def _draw_goal(self, rng: np.random.Generator) -> np.ndarray:
        lift = 0.0 if rng.random() < TABLE_GOALS else rng.uniform(0.0, GOAL_HEIGHT)
        return self.region.draw(rng, self.half_size + lift)

    def _feasible(self, start: np.ndarray, goal: np.ndarray) -> bool:
        return self._grasps(start) and self.arm.reaches(goal)
