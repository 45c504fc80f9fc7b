"""What every task shares: goals drawn from the robot's own reachable workspace, and rewards."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepwe_rl.envs.robots.arm import Arm
from deepwe_rl.envs.robots.catalog import RobotSource
from deepwe_rl.envs.sim import BulletSim
from deepwe_rl.morphology import OBJECT_DIM

MIN_RADIUS = 0.15
"""Goals and objects stay this far (metres) from the base axis, off the robot's own base."""

TABLE_BAND = (0.01, 0.045)
"""End-effector heights (metres) at which an arm can touch an object lying on the table."""


class Workspace:
    """End-effector positions the arm reaches without putting a link through the table,
    drawn once by forward kinematics of random joint configurations. ``workspace(arm)`` draws
    them once per robot."""

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


_WORKSPACES: dict[RobotSource, Workspace] = {}


def workspace(arm: Arm) -> Workspace:
    """The arm's ``Workspace``, drawn once per robot in a process and shared by every env of
    that robot: the draw is a function of the robot alone, and takes seconds."""
    if arm.source not in _WORKSPACES:
        _WORKSPACES[arm.source] = Workspace(arm)
    return _WORKSPACES[arm.source]


class Task:
    """A goal-conditioned manipulation task on one arm.

    ``sample`` draws the episode's goal (and object start) and may move the arm to do so;
    ``place`` then puts the object and goal marker into the world.
    """

    name = "task"
    has_object = False

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

    def describe(self) -> dict[str, Any]:
        """What ``reset`` drew beyond the goal, for its ``info``."""
        return {}

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


OBJECT_RANGE = 0.15
"""Half-width (metres) of panda-gym v3's square of cube starts and goals. An arm whose table
reach is narrower gets a square half as wide as its reach, so every arm's draws stay in reach."""

PUSH_CLEARANCE = 0.09
"""How far behind the cube's centre (metres) the end effector stands to push it; the cube's
start and its goal each need that point reachable, on the side facing away from the goal."""


CUBE_CLEARANCE = 0.01
"""How far (metres) every link but the gripper's fingers must stay above the cube while the arm
stands behind it."""


@dataclass(frozen=True)
class TableRegion:
    """The square of the table, in front of the arm, where cubes start and goals lie."""

    center: tuple[float, float]
    half_width: float

    @classmethod
    def of(cls, table: np.ndarray) -> TableRegion:
        """Centred along the arm's home direction (+x) midway through its reach on the table,
        ``min(OBJECT_RANGE, reach / 4)`` wide on each side, where reach is the radial width of
        the table points it reaches."""
        radius = np.hypot(table[:, 0], table[:, 1])
        return cls.between(float(radius.min()), float(radius.max()))

    @classmethod
    def between(cls, near: float, far: float) -> TableRegion:
        """Centred on +x midway between the radii ``near`` and ``far``, ``min(OBJECT_RANGE,
        (far - near) / 4)`` wide on each side."""
        return cls(((near + far) / 2, 0.0), min(OBJECT_RANGE, (far - near) / 4))

    def draw(self, rng: np.random.Generator, height: float) -> np.ndarray:
        x, y = np.asarray(self.center) + rng.uniform(-self.half_width, self.half_width, 2)
        return np.array([x, y, height])


_REGIONS: dict[tuple[str, RobotSource], TableRegion] = {}


class ObjectTask(Task):
    """A task with one cube on the table that must be brought to the goal.

    The cube starts uniformly in the arm's ``TableRegion`` and the goal is drawn the same way
    (on the table for Push, possibly in the air for PickAndPlace), as panda-gym v3 draws them,
    redrawn until the cube does not already lie on the goal and the arm reaches the points the
    task needs (``_feasible``).
    """

    has_object = True
    half_size = 0.02
    draws = 100
    """Draws per reset before giving up on finding a start and goal the arm reaches."""

    def __init__(self, sim: BulletSim, arm: Arm, reward: str, distance_threshold: float) -> None:
        super().__init__(sim, arm, reward, distance_threshold)
        self.region = self._table_region()
        self.object = self._add_object()
        self.object_start = np.zeros(3)
        self._state = np.zeros(OBJECT_DIM)
        try:
            self.sample(np.random.default_rng(0))
        except ValueError:
            raise ValueError(
                f"robot '{arm.source.name}' cannot reach the cube and goal in front of it, "
                f"so it cannot do {self.name}"
            ) from None

    def _table_region(self) -> TableRegion:
        """``_region`` of the table points the arm reaches, found once per task and robot in a
        process (a PickAndPlace region tries dozens of grasps, which takes seconds)."""
        key = (self.name, self.arm.source)
        if key not in _REGIONS:
            table = workspace(self.arm).band(*TABLE_BAND)
            if len(table) < 5:
                raise ValueError(
                    f"robot '{self.arm.source.name}' cannot reach the table top, "
                    f"so it cannot do {self.name}"
                )
            _REGIONS[key] = self._region(table)
        return _REGIONS[key]

    def _region(self, table: np.ndarray) -> TableRegion:
        """The square the cube and goal are drawn in, given the table points the arm reaches."""
        return TableRegion.of(table)

    def _add_object(self) -> int:
        return self.sim.add_box(self.half_size, 1.0, (0.9, 0.2, 0.2, 1.0))

    def _draw_goal(self, rng: np.random.Generator) -> np.ndarray:
        return self.region.draw(rng, self.half_size)

    def sample(self, rng: np.random.Generator) -> None:
        for _ in range(self.draws):
            start, goal = self.region.draw(rng, self.half_size), self._draw_goal(rng)
            if np.linalg.norm(goal - start) <= self.distance_threshold:
                continue
            if self._feasible(start, goal):
                self.object_start, self.goal = start, goal
                return
        raise ValueError(
            f"no reachable cube start and goal for robot '{self.arm.source.name}' "
            f"in {self.draws} draws"
        )

    def _feasible(self, start: np.ndarray, goal: np.ndarray) -> bool:
        """Whether the arm gets behind the cube, facing the goal, at its start and at the goal:
        it reaches the point there, and none of its links then comes down on the cube from
        above (an arm stretched out to pull a cube towards its base would press its forearm on
        it)."""
        back = push_direction(start, goal) * PUSH_CLEARANCE
        for cube in (start, goal):
            if not self.arm.reaches(cube - back):
                return False
            self.sim.set_pose(self.object, cube)
            if self.arm.over(self.object, cube[2] + self.half_size, CUBE_CLEARANCE):
                return False
        return True

    def describe(self) -> dict[str, Any]:
        """The task's distribution, for ``info`` at reset."""
        return {
            "region_center": self.region.center,
            "region_half_width": self.region.half_width,
            "object_start": self.object_start.tolist(),
        }

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


def push_direction(start: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """The unit vector in the table plane from ``start`` towards ``goal`` (+x when they share
    their xy)."""
    d = np.array([goal[0] - start[0], goal[1] - start[1], 0.0])
    norm = np.linalg.norm(d)
    return d / norm if norm > 1e-9 else np.array([1.0, 0.0, 0.0])
