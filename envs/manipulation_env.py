"""The Gymnasium environment: one robot, one task, the shared observation contract."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

import gymnasium as gym
import numpy as np

from deepwe_rl.envs.robots.arm import Arm
from deepwe_rl.envs.robots.catalog import resolve_robot
from deepwe_rl.envs.sim import BulletSim
from deepwe_rl.envs.spaces import action_space, observation_space
from deepwe_rl.envs.tasks.base import Task
from deepwe_rl.envs.tasks.pick_and_place import PickAndPlace
from deepwe_rl.envs.tasks.push import Push
from deepwe_rl.envs.tasks.reach import Reach
from deepwe_rl.morphology import DEPTH_SHAPE, OBSERVATION, STREAM_INDEX, STREAMS, check_fits

TaskName = Literal["reach", "push", "pick_and_place"]
"""The tasks: the one list of their names, which the run config reads too."""
ControlName = Literal["joints", "ee"]
"""Joint control or end-effector control."""
RewardName = Literal["sparse", "dense"]
"""``sparse``: -1 until within the distance threshold, then 0; ``dense``: minus the distance."""

TASKS: dict[TaskName, type[Task]] = {"reach": Reach, "push": Push, "pick_and_place": PickAndPlace}
"""Each task name's class; the Gymnasium id is ``deepwe_rl/<class name>-v0``."""
CONTROLS: tuple[ControlName, ...] = get_args(ControlName)
REWARDS: tuple[RewardName, ...] = get_args(RewardName)
DEFAULT_REWARD: RewardName = "sparse"
"""The env's default, as panda-gym's and Gymnasium-Robotics' goal envs: the reward HER
relabels. The run config defaults to ``dense`` instead (see docs/architecture.md)."""


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(
            f"{name}={value!r} is not valid: choose one of {', '.join(map(repr, allowed))}"
        )


class ManipulationEnv(gym.Env):
    """A robot arm on a table doing one goal-conditioned task, seen through the contract.

    Registered as ``deepwe_rl/Reach-v0``, ``deepwe_rl/Push-v0`` and ``deepwe_rl/PickAndPlace-v0``.
    Episodes terminate on success (as panda-gym v3); ``gym.make`` adds the 50-step time limit.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(
        self,
        task: str = "reach",
        robot: str = "panda",
        control: str = "joints",
        reward: str = DEFAULT_REWARD,
        max_joints: int = 8,
        render_mode: str | None = None,
        camera: bool = False,
        distance_threshold: float = 0.05,
        ee_link: str | None = None,
    ) -> None:
        _choice("task", task, get_args(TaskName))
        _choice("control", control, CONTROLS)
        _choice("reward", reward, REWARDS)
        if render_mode is not None:
            _choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        if not isinstance(max_joints, int) or max_joints < 1:
            raise ValueError(f"max_joints must be a positive integer, got {max_joints!r}")
        if distance_threshold <= 0:
            raise ValueError(f"distance_threshold must be positive, got {distance_threshold}")
        self.control = control
        self.max_joints = max_joints
        self.render_mode = render_mode
        self.camera = camera
        self.sim = BulletSim()
        try:
            self.arm = Arm(self.sim.id, resolve_robot(robot, ee_link))
            check_fits(self.arm.spec, max_joints)
            self.sim.add_plane()
            self.task = TASKS[task](self.sim, self.arm, reward, distance_threshold)
        except Exception:
            self.sim.close()
            raise
        self.robot = robot
        self.observation_space = observation_space(max_joints, camera)
        self.action_space = action_space(max_joints, control)

        n = self.arm.num_joints
        self._desc, self._mask = self.arm.spec.padded_descriptors(max_joints)
        self._streams = np.zeros(len(STREAMS), dtype=np.float32)
        for stream, real in (
            ("ee", True),
            ("gripper", self.arm.has_gripper),
            ("object", self.task.has_object),
            ("goal", True),
            ("depth", camera),
        ):
            self._streams[STREAM_INDEX[stream]] = float(real)
        self._joint_state = np.zeros(OBSERVATION["joint_state"].shape(max_joints), np.float32)
        self._object = np.zeros(OBSERVATION["object"].size)
        self._n = n

    # --- gymnasium API ----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self.task.sample(self.np_random)
        self.arm.set_joints(self.arm.home)
        self.arm.last_command[:] = 0.0
        self.task.place()
        self.arm.read()
        obs = self._observation()
        return obs, {"is_success": False, "robot": self.robot, **self.task.describe()}

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        action = self._validate(action)
        if self.control == "joints":
            self.arm.command_joints(action[: self._n], float(action[-1]))
        else:
            self.arm.command_ee(action[:3], float(action[3]))
        self.sim.step()
        self.arm.read()
        obs = self._observation()
        success = bool(self.task.is_success(obs["achieved_goal"], obs["desired_goal"]))
        reward = float(self.task.compute_reward(obs["achieved_goal"], obs["desired_goal"]))
        return obs, reward, success, False, {"is_success": success, "robot": self.robot}

    def compute_reward(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any
    ) -> np.ndarray:
        """Vectorised reward for goal relabelling (SB3's HerReplayBuffer calls this)."""
        return self.task.compute_reward(achieved_goal, desired_goal, info)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self.sim.render_rgb()

    def close(self) -> None:
        self.sim.close()

    # --- helpers ----------------------------------------------------------------------------
    def _validate(self, action: Any) -> np.ndarray:
        """Reject malformed actions before anything in the world changes."""
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"action must be numeric, got {type(action).__name__}") from None
        expected = self.action_space.shape
        if a.shape != expected:
            raise ValueError(
                f"action has shape {a.shape}, expected {expected} for control='{self.control}' "
                f"and max_joints={self.max_joints}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError("action contains NaN or infinite values; the step was not applied")
        return np.clip(a, -1.0, 1.0)

    def _observation(self) -> dict[str, np.ndarray]:
        self._joint_state[: self._n] = self.arm.joint_state()
        self.task.object_state(self._object)
        obs = {
            "joint_state": self._joint_state.copy(),
            "joint_desc": self._desc.copy(),
            "joint_mask": self._mask.copy(),
            "ee": self.arm.ee.astype(np.float32),
            "gripper": self.arm.gripper.astype(np.float32),
            "object": self._object.astype(np.float32),
            "stream_mask": self._streams.copy(),
            "achieved_goal": self.task.achieved_goal().astype(np.float32),
            "desired_goal": self.task.goal.astype(np.float32),
        }
        if self.camera:
            depth = self.sim.render_depth(
                DEPTH_SHAPE[2], DEPTH_SHAPE[1], np.array([0.3, 0.0, 0.1]), 1.2
            )
            obs["depth"] = depth[None].astype(np.float32)
        return obs
