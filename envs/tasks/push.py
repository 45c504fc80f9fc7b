"""Push: slide a cube across the table to a goal on the table."""

from __future__ import annotations

from deepwe_rl.envs.tasks.base import ObjectTask


class Push(ObjectTask):
    """Cube and goal both on the table, in the square in front of the arm (``TableRegion``)."""

    name = "Push"
