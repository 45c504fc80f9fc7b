"""A serial arm in a BulletSim: its morphology, its state, and the two ways to command it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pybullet as p

from deepwe_rl.envs.robots.catalog import RobotSource
from deepwe_rl.envs.robots.structure import load_structure
from deepwe_rl.morphology import (
    EE_DIM,
    GRIPPER_DIM,
    JointSpec,
    MorphologySpec,
    joint_state,
)

JOINT_STEP = 0.05
"""Largest joint-target change per env step in joint control, in radians (as panda-gym)."""

EE_STEP = 0.05
"""Largest end-effector target change per env step in end-effector control, in metres."""

GRIPPER_STEP = 0.5
"""Largest change of the gripper's opening fraction per env step."""

DOWN = np.array([0.0, 0.0, -1.0])

UPRIGHT = 0.3
"""The most (radians) a gripper's fingers may lean from straight down to grasp from above."""

_UPRIGHT_ITERATIONS = 150
"""Steps ``reaches`` takes at most towards an upright pose."""

TILT_WEIGHT = 0.5
"""Metres of end-effector step that ``joint_motion`` weighs equal to one radian of tilt."""

_AT_LIMIT = 0.02
"""Radians from a joint limit within which ``joint_motion`` holds a joint that would pass it."""


class Arm:
    """One robot arm loaded at the origin of a BulletSim, with a fixed base.

    ``read`` refreshes the cached joint and end-effector state once per env step; the
    observation and the next action both use that cache, so each step talks to PyBullet once to
    command, once to read joints and once to read the end effector.
    """

    def __init__(self, sim_id: int, source: RobotSource) -> None:
        self.sim_id = sim_id
        self.source = source
        self.structure = s = load_structure(sim_id, source)
        self.body = s.body
        self.num_joints = len(s.arm_joints)
        self.has_gripper = len(s.gripper_joints) > 0
        self._all_joints = np.concatenate([s.arm_joints, s.gripper_joints]).tolist()
        self._arm_ids = s.arm_joints.tolist()
        self._forces = s.effort.tolist()
        self._g_ids = s.gripper_joints.tolist()
        self._g_forces = s.gripper_effort.tolist()
        self._g_span = s.gripper_upper - s.gripper_lower
        for link in self._g_ids:  # grippy finger pads, as panda-gym gives Panda's
            p.changeDynamics(
                self.body, link, lateralFriction=1.0, spinningFriction=0.001, physicsClientId=sim_id
            )
        self.ik_index = [int(np.flatnonzero(s.movable_joints == j)[0]) for j in s.arm_joints]
        self._tcp = np.asarray(source.tcp, dtype=np.float64)
        self._local_axes = [  # in each link's inertial frame, as Bullet gives them
            np.array(p.getJointInfo(self.body, j, physicsClientId=sim_id)[13])
            for j in self._arm_ids
        ]
        home = source.home if source.home is not None else np.zeros(self.num_joints)
        if len(home) != self.num_joints:
            raise ValueError(
                f"robot '{source.name}': home pose has {len(home)} values "
                f"for {self.num_joints} joints"
            )
        self.home = np.clip(np.asarray(home, dtype=np.float64), s.lower, s.upper)
        self.spec = self._measure_morphology()

        self.q = np.zeros(self.num_joints)
        self.qd = np.zeros(self.num_joints)
        self.last_command = np.zeros(self.num_joints)
        self.ee = np.zeros(EE_DIM)
        self.gripper = np.zeros(GRIPPER_DIM)

    # --- morphology -------------------------------------------------------------------------
    def _measure_morphology(self) -> MorphologySpec:
        """Joint origins and axes in the base frame at zero pose, and the link each drives."""
        s = self.structure
        self.set_joints(np.zeros(self.num_joints))
        axes, origins = self.joint_axes()
        tip = self._tcp_at(*self.link_frame(s.ee_link))
        ends = [*origins[1:], tip]
        joints = tuple(
            JointSpec(
                name=s.joint_names[i],
                origin=tuple(float(x) for x in origins[i]),
                axis=tuple(float(x) for x in axes[i]),
                link_length=float(np.linalg.norm(ends[i] - origins[i])),
                lower=float(s.lower[i]),
                upper=float(s.upper[i]),
                velocity_limit=float(s.velocity[i]),
                effort_limit=float(s.effort[i]),
            )
            for i in range(self.num_joints)
        )
        return MorphologySpec(self.source.name, joints, self.has_gripper)

    # --- state ------------------------------------------------------------------------------
    def link_frame(self, link: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """World position and orientation of a link's URDF frame (the base frame for -1)."""
        if link < 0:
            return p.getBasePositionAndOrientation(self.body, physicsClientId=self.sim_id)
        state = p.getLinkState(
            self.body, link, computeForwardKinematics=1, physicsClientId=self.sim_id
        )
        return state[4], state[5]

    def set_joints(self, q: np.ndarray, gripper_open: float = 1.0) -> None:
        """Teleport the joints (zero velocity) and hold them there with the motors."""
        for j, qj in zip(self._arm_ids, q, strict=True):
            p.resetJointState(self.body, j, float(qj), 0.0, physicsClientId=self.sim_id)
        targets = self._gripper_targets(gripper_open)
        for j, qj in zip(self._g_ids, targets, strict=True):
            p.resetJointState(self.body, j, float(qj), 0.0, physicsClientId=self.sim_id)
        self._command(np.asarray(q, dtype=np.float64), targets)

    def read(self) -> None:
        """Refresh the cached joint, gripper and end-effector state from the simulator."""
        states = p.getJointStates(self.body, self._all_joints, physicsClientId=self.sim_id)
        n = self.num_joints
        for i in range(n):
            self.q[i], self.qd[i] = states[i][0], states[i][1]
        if self.has_gripper:
            s = self.structure
            gq = np.array([st[0] for st in states[n:]])
            gqd = np.array([st[1] for st in states[n:]])
            frac = (gq - s.gripper_lower) / np.maximum(self._g_span, 1e-9)
            sign = 1.0 if s.gripper_open_at_upper else -1.0
            self.gripper[0] = frac.mean() if sign > 0 else 1.0 - frac.mean()
            self.gripper[1] = sign * (gqd / np.maximum(self._g_span, 1e-9)).mean()
        link = p.getLinkState(
            self.body,
            int(self.structure.ee_link),
            computeLinkVelocity=1,
            computeForwardKinematics=1,
            physicsClientId=self.sim_id,
        )
        self.ee[3:7] = link[5]
        if self._tcp.any():  # the tool point, and its velocity from the link's spin
            self.ee[0:3] = self._tcp_at(link[4], link[5])
            self.ee[7:10] = np.asarray(link[6]) + np.cross(link[7], self.ee[0:3] - link[4])
        else:
            self.ee[0:3] = link[4]
            self.ee[7:10] = link[6]

    def touches(self, body: int) -> bool:
        """Whether a link the arm moves beyond its first joint is in contact with ``body``."""
        contacts = p.getContactPoints(self.body, body, physicsClientId=self.sim_id)
        return any(c[3] > self._arm_ids[min(1, self.num_joints - 1)] for c in contacts)

    def grips(self, body: int) -> bool:
        """Whether the gripper's links press on ``body`` from opposite sides."""
        normals = [
            np.asarray(c[7])
            for c in p.getContactPoints(self.body, body, physicsClientId=self.sim_id)
            if c[3] in self._g_ids
        ]
        return any(a @ b < -0.5 for i, a in enumerate(normals) for b in normals[i + 1 :])

    def over(self, body: int, top: float, distance: float) -> bool:
        """Whether a link of the arm, its gripper's fingers aside, comes within ``distance``
        metres of ``body`` from above the height ``top`` (its top face)."""
        points = p.getClosestPoints(self.body, body, distance, physicsClientId=self.sim_id)
        return any(c[3] not in self._g_ids and c[5][2] >= top for c in points)

    def _tcp_at(self, position: Sequence[float], orientation: Sequence[float]) -> np.ndarray:
        """The tool centre point in the world, for the end-effector link's frame."""
        rotation = np.array(p.getMatrixFromQuaternion(orientation)).reshape(3, 3)
        return np.asarray(position) + rotation @ self._tcp

    def joint_state(self) -> np.ndarray:
        """Per-joint state rows for the real joints, from the last ``read``."""
        s = self.structure
        return joint_state(self.q, self.qd, s.lower, s.upper, s.velocity, self.last_command)

    # --- commands ---------------------------------------------------------------------------
    def _gripper_targets(self, opening: float) -> np.ndarray:
        s = self.structure
        frac = opening if s.gripper_open_at_upper else 1.0 - opening
        return s.gripper_lower + frac * self._g_span if self.has_gripper else np.zeros(0)

    def _command(self, arm_targets: np.ndarray, gripper_targets: np.ndarray) -> None:
        p.setJointMotorControlArray(
            self.body,
            self._arm_ids,
            p.POSITION_CONTROL,
            targetPositions=arm_targets.tolist(),
            forces=self._forces,
            physicsClientId=self.sim_id,
        )
        if self.has_gripper:
            p.setJointMotorControlArray(
                self.body,
                self._g_ids,
                p.POSITION_CONTROL,
                targetPositions=gripper_targets.tolist(),
                forces=self._g_forces,
                physicsClientId=self.sim_id,
            )

    def _gripper_command(self, action: float) -> np.ndarray:
        opening = float(np.clip(self.gripper[0] + GRIPPER_STEP * action, 0.0, 1.0))
        return self._gripper_targets(opening)

    def command_joints(self, joint_actions: np.ndarray, gripper_action: float) -> None:
        """Joint control: each action in [-1, 1] moves that joint's target by up to JOINT_STEP."""
        s = self.structure
        self.last_command[:] = joint_actions
        targets = np.clip(self.q + JOINT_STEP * joint_actions, s.lower, s.upper)
        self._command(targets, self._gripper_command(gripper_action))

    def command_ee(self, cartesian: np.ndarray, gripper_action: float) -> None:
        """End-effector control: move the end-effector target by up to EE_STEP, solved by IK."""
        target = self.ee[0:3] + EE_STEP * cartesian
        target[2] = max(target[2], 0.0)
        q = self.solve_ik(target)
        self.last_command[:] = np.clip((q - self.q) / JOINT_STEP, -1.0, 1.0)
        self._command(q, self._gripper_command(gripper_action))

    def solve_ik(self, target: np.ndarray, iterations: int = 20) -> np.ndarray:
        """Joint positions, within the limits, that put the end effector at ``target``: Bullet's
        position-only IK seeded with the simulator's current joint state."""
        s = self.structure
        link = np.asarray(target, dtype=np.float64)
        if self._tcp.any():  # aim the link so that its tool point lands on the target
            position, orientation = self.link_frame(s.ee_link)
            link = link - (self._tcp_at(position, orientation) - np.asarray(position))
        solution = p.calculateInverseKinematics(
            self.body,
            int(s.ee_link),
            link.tolist(),
            maxNumIterations=iterations,
            residualThreshold=1e-4,
            physicsClientId=self.sim_id,
        )
        return np.clip(np.asarray(solution)[self.ik_index], s.lower, s.upper)

    @property
    def approach(self) -> np.ndarray:
        """The world direction of the end-effector link's z axis, from the last ``read``: the
        way its fingers point, for the arms in the catalog."""
        return np.array(p.getMatrixFromQuaternion(self.ee[3:7].tolist())).reshape(3, 3)[:, 2]

    @property
    def tilt(self) -> float:
        """How far (radians) the fingers lean from pointing straight down, at the last ``read``."""
        a = self.approach
        return float(np.arctan2(np.linalg.norm(np.cross(a, DOWN)), a @ DOWN))

    def turn_upright(self, limit: float) -> np.ndarray:
        """The turn (radians about the world's x and y axes, at most ``limit``) that brings the
        fingers towards pointing straight down: a ``tilt`` for ``joint_motion``."""
        axis = np.cross(self.approach, DOWN)
        sine = float(np.linalg.norm(axis))
        if sine < 1e-9:
            return np.zeros(2)
        return (axis / sine * min(self.tilt, limit))[:2]

    def joint_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each arm joint's unit axis and origin in the world (joints, 3) at the joints'
        present angles."""
        links = p.getLinkStates(
            self.body, self._arm_ids, computeForwardKinematics=1, physicsClientId=self.sim_id
        )
        # Bullet gives an axis in its link's inertial frame, which a URDF may turn against the
        # link's own frame (the xArm7's, Z1's and SO-101's do).
        axes = np.array([
            np.array(p.getMatrixFromQuaternion(link[1])).reshape(3, 3) @ axis
            for link, axis in zip(links, self._local_axes, strict=True)
        ])  # fmt: skip
        axes /= np.maximum(np.linalg.norm(axes, axis=1, keepdims=True), 1e-9)
        return axes, np.array([link[4] for link in links])

    def jacobian(self) -> tuple[np.ndarray, np.ndarray]:
        """The end effector's position Jacobian (3, joints) and its turning Jacobian (the
        joints' world axes, 3, joints) at the joints' present angles: each joint turns the end
        effector about its axis through its origin. Computed here rather than by Bullet's
        ``calculateJacobian``, which takes the point in the link's inertial frame: wrong for
        a tool point on a link whose inertial frame sits apart from its own (the Z1's)."""
        axes, origins = self.joint_axes()
        tip = self._tcp_at(*self.link_frame(int(self.structure.ee_link)))
        return np.cross(axes, tip - origins).T, axes.T

    def joint_motion(
        self, step: np.ndarray, tilt: np.ndarray | None = None, damping: float = 0.05
    ) -> np.ndarray:
        """The smallest joint motion that moves the end effector by ``step`` (metres), to first
        order: the damped least-squares inverse of ``jacobian`` (joints at a limit as of the
        last ``read`` held). A smooth function of the joint state, unlike a full IK solve.

        ``tilt`` (radians, about the world's x and y axes) also turns the end effector, as
        far as the arm's joints allow after the step; its yaw stays free."""
        s = self.structure
        jac, axes = self.jacobian()
        task = np.asarray(step, dtype=np.float64)
        if tilt is not None:  # turning rows, weighted so that a step outranks a turn
            jac = np.vstack([jac, TILT_WEIGHT * axes[:2]])
            task = np.concatenate([task, TILT_WEIGHT * np.asarray(tilt, dtype=np.float64)])
        free = np.ones(self.num_joints, dtype=bool)
        for _ in range(self.num_joints):  # a joint at its limit that would pass it is held
            j = jac * free
            dq = j.T @ np.linalg.solve(j @ j.T + damping**2 * np.eye(len(task)), task)
            blocked = ((self.q <= s.lower + _AT_LIMIT) & (dq < 0)) | (
                (self.q >= s.upper - _AT_LIMIT) & (dq > 0)
            )
            if not (blocked & free).any():
                return dq
            free &= ~blocked
        return dq

    def reaches(self, target: np.ndarray, tolerance: float = 0.02, upright: bool = False) -> bool:
        """Whether IK from the home pose puts the end effector within ``tolerance`` metres of
        ``target`` with every link frame above the table, and, if ``upright``, its fingers
        within ``UPRIGHT`` of straight down. Moves the joints: the caller puts the arm back
        afterwards."""
        self.set_joints(self.home)
        if upright:
            return self._reaches_upright(np.asarray(target, dtype=np.float64), tolerance)
        # Each solve aims the link by its orientation before the solve, which moves a tool
        # centre point off the link; solving again from the last solution takes that up.
        for _ in range(3 if self._tcp.any() else 1):
            ee, lowest = self.forward_kinematics(self.solve_ik(target, iterations=100))
        return bool(np.linalg.norm(ee - target) < tolerance and lowest >= 0.0)

    def _reaches_upright(self, target: np.ndarray, tolerance: float) -> bool:
        """``reaches`` with the fingers down: position-only IK cannot hold an orientation, so
        this follows ``joint_motion`` with a turn towards upright from home, in large steps."""
        s = self.structure
        for _ in range(_UPRIGHT_ITERATIONS):
            self.read()
            step = target - self.ee[0:3]
            if np.linalg.norm(step) < tolerance / 4 and self.tilt < UPRIGHT / 4:
                break
            step *= min(1.0, 2 * EE_STEP / max(float(np.linalg.norm(step)), 1e-9))
            dq = self.joint_motion(step, self.turn_upright(2 * JOINT_STEP))
            dq /= max(1.0, float(np.abs(dq).max()) / (2 * JOINT_STEP))
            self.set_joints(np.clip(self.q + dq, s.lower, s.upper))
        self.read()
        _, lowest = self.forward_kinematics(self.q)
        near = np.linalg.norm(self.ee[0:3] - target) < tolerance
        return bool(near and self.tilt < UPRIGHT and lowest >= 0.0)

    # --- kinematics -------------------------------------------------------------------------
    def sample_configuration(self, rng: np.random.Generator) -> np.ndarray:
        s = self.structure
        return rng.uniform(s.lower, s.upper)

    def forward_kinematics(self, q: np.ndarray) -> tuple[np.ndarray, float]:
        """End-effector position and the lowest link-frame height at ``q``.

        Moves the joints: the caller puts the arm back afterwards.
        """
        for j, qj in zip(self._arm_ids, q, strict=True):
            p.resetJointState(self.body, j, float(qj), 0.0, physicsClientId=self.sim_id)
        states = p.getLinkStates(
            self.body,
            [*self._arm_ids, int(self.structure.ee_link)],
            computeForwardKinematics=1,
            physicsClientId=self.sim_id,
        )
        lowest = min(st[4][2] for st in states[1:])
        return self._tcp_at(states[-1][4], states[-1][5]), lowest
