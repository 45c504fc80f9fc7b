"""Pick and place: lift a cube from the table to a goal that may be in the air."""

from __future__ import annotations

import numpy as np
from deepwe_rl.envs.robots.arm import Arm
from deepwe_rl.envs.sim import BulletSim
from deepwe_rl.envs.tasks.base import ObjectTask

_MAX_GOAL_HEIGHT = 0.25


class PickAndPlace(ObjectTask):
    """Half of the goals sit on the table and half in the air, all reachable by this robot."""

    name = "PickAndPlace"
    needs_gripper = True

    def __init__(self, sim: BulletSim, arm: Arm, reward: str, distance_threshold: float) -> None:
        if not arm.has_gripper:
            raise ValueError(
                f"robot '{arm.source.name}' has no gripper; PickAndPlace needs one "
                "(try panda, xarm6 or a proc arm with a gripper)"
            )
        super().__init__(sim, arm, reward, distance_threshold)
        self.air = self.workspace.band(self.half_size, _MAX_GOAL_HEIGHT)

    def sample(self, rng: np.random.Generator) -> None:
        if rng.random() < 0.5:
            goals = self.table.copy()
            goals[:, 2] = self.half_size
        else:
            goals = self.air
        self._start_and_goal(rng, goals)
