"""What every task shares: goals drawn from the robot's own reachable workspace, and rewards."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from deepwe_rl.envs.robots.arm import Arm
from deepwe_rl.envs.sim import BulletSim

from deepwe_rl.morphology import OBJECT_DIM

MIN_RADIUS = 0.15
"""Goals and objects stay this far (metres) from the base axis, off the robot's own base."""

TABLE_BAND = (0.01, 0.045)
"""End-effector heights (metres) at which an arm can touch an object lying on the table."""


class Workspace:
    """End-effector positions the arm reaches without putting a link through the table,
    drawn once by forward kinematics of random joint configurations."""

    def __init__(self, arm: Arm, samples: int = 4000) -> None:
        rng = np.random.default_rng(zlib.crc32(arm.source.name.encode()))
        points = []
        for _ in range(samples):
            ee, lowest = arm.forward_kinematics(arm.sample_configuration(rng))
            if lowest >= 0.0 and ee[2] >= TABLE_BAND[0] and np.hypot(ee[0], ee[1]) >= MIN_RADIUS:
                points.append(ee)
        self.points = np.array(points).reshape(-1, 3)

    def band(self, low: float, high: float) -> np.ndarray:
        """Reachable points whose height lies in ``[low, high]``."""
        z = self.points[:, 2]
        return self.points[(z >= low) & (z <= high)]


class Task:
    """A goal-conditioned manipulation task on one arm.

    ``sample`` draws the episode's goal (and object start) and may move the arm to do so;
    ``place`` then puts the object and goal marker into the world.
    """

    name = "task"
    has_object = False
    needs_gripper = False

    def __init__(self, sim: BulletSim, arm: Arm, reward: str, distance_threshold: float) -> None:
        self.sim = sim
        self.arm = arm
        self.reward = reward
        self.distance_threshold = distance_threshold
        self.goal = np.zeros(3)
        self.marker = sim.add_marker(distance_threshold, (0.1, 0.8, 0.1, 0.4))

    def sample(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def place(self) -> None:
        self.sim.set_pose(self.marker, self.goal)

    def achieved_goal(self) -> np.ndarray:
        raise NotImplementedError

    def object_state(self, out: np.ndarray) -> None:
        """Write the object's state into ``out`` (left zero when the task has no object)."""

    def is_success(self, achieved: np.ndarray, desired: np.ndarray) -> np.ndarray:
        return np.linalg.norm(achieved - desired, axis=-1) < self.distance_threshold

    def compute_reward(
        self, achieved: np.ndarray, desired: np.ndarray, info: Any = None
    ) -> np.ndarray | float:
        """Sparse: -1 until within the threshold, then 0. Dense: minus the distance."""
        d = np.linalg.norm(np.asarray(achieved) - np.asarray(desired), axis=-1)
        if self.reward == "sparse":
            return -(d >= self.distance_threshold).astype(np.float32)
        return -d.astype(np.float32)


class ObjectTask(Task):
    """A task with one cube on the table that must be brought to the goal."""

    has_object = True
    half_size = 0.02

    def __init__(self, sim: BulletSim, arm: Arm, reward: str, distance_threshold: float) -> None:
        super().__init__(sim, arm, reward, distance_threshold)
        self.workspace = Workspace(arm)
        self.table = self.workspace.band(*TABLE_BAND)
        if len(self.table) < 5:
            raise ValueError(
                f"robot '{arm.source.name}' cannot reach the table top, so it cannot do {self.name}"
            )
        self.object = self._add_object()
        self.object_start = np.zeros(3)
        self._state = np.zeros(OBJECT_DIM)

    def _add_object(self) -> int:
        return self.sim.add_box(self.half_size, 1.0, (0.9, 0.2, 0.2, 1.0))

    def _on_table(self, rng: np.random.Generator) -> np.ndarray:
        point = self.table[rng.integers(len(self.table))].copy()
        point[2] = self.half_size
        return point

    def _start_and_goal(self, rng: np.random.Generator, goal_pool: np.ndarray) -> None:
        """Draw an object start on the table and a goal from ``goal_pool`` clear of each other."""
        self.object_start = self._on_table(rng)
        for _ in range(100):
            self.goal = goal_pool[rng.integers(len(goal_pool))].copy()
            if np.linalg.norm(self.goal - self.object_start) > 2 * self.distance_threshold:
                return

    def place(self) -> None:
        super().place()
        # A fresh body: Bullet keeps contact caches of a teleported one, and those make the
        # next steps depend on the previous episode.
        self.sim.remove(self.object)
        self.object = self._add_object()
        self.sim.set_pose(self.object, self.object_start)

    def achieved_goal(self) -> np.ndarray:
        return self._state[0:3].copy()

    def object_state(self, out: np.ndarray) -> None:
        self.sim.body_state(self.object, self._state)
        out[:] = self._state
