"""Push: slide a cube across the table to a goal on the table."""

from __future__ import annotations

import numpy as np
from deepwe_rl.envs.tasks.base import ObjectTask


class Push(ObjectTask):
    """The cube starts and the goal lies at table-top points this robot's end effector reaches."""

    name = "Push"

    def sample(self, rng: np.random.Generator) -> None:
        goals = self.table.copy()
        goals[:, 2] = self.half_size
        self._start_and_goal(rng, goals)
