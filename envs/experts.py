"""Scripted experts: each task solved through the arm's own kinematics, whatever the arm.

Push: 90% or more of seeded episodes on each arm of ``push-train`` and of the held-out splits
(tests/test_env_tasks.py); less on proc:5:0, proc:7:2 and proc:7:0, which train Reach only.
PickAndPlace: 90% or more on each arm of ``pick-train`` and on the held-out gripper arms that
can pick; proc:7:3, which trains Reach only, needs more than 50 steps for a quarter of them.
In joint control it turns the fingers to point down before it comes down on the cube, so
that they close on its sides instead of knocking it over.

An expert reads the simulator's true state (the arm, the cube, the goal), picks a point for the
end effector to head for, and turns the step towards it into the env's action: a Cartesian step
in end-effector control, or in joint control the smallest joint motion that makes that step
(the damped least-squares inverse of the end effector's Jacobian), a smooth function of the
joint state that a network can fit. It keeps no memory between steps, so it can label any
state, including states a learner visits.

``expert_action(env)`` takes a ``ManipulationEnv`` (``gym.make(...).unwrapped``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from deepwe_rl.envs.robots.arm import EE_STEP, JOINT_STEP, UPRIGHT
from deepwe_rl.envs.tasks.base import PUSH_CLEARANCE, push_direction
from deepwe_rl.envs.tasks.pick_and_place import HOVER

if TYPE_CHECKING:
    from deepwe_rl.envs.manipulation_env import ManipulationEnv

ALIGNED = 0.015
"""How far (metres) the end effector may stray from the line through cube and goal while it
pushes, or from the point above the cube while it comes down to grasp."""

OPEN, CLOSE = 1.0, -1.0
"""Gripper actions."""

PUSH_STEP = 0.03
"""How far (metres) ahead of the end effector a push aims: slower than ``EE_STEP``, so the cube
stays on the line to the goal."""

TURN_STEP = 0.1
"""Most the expert turns the gripper per step towards upright, in radians."""

GRASPED = 0.9
"""A gripper closed to less than this fraction of its opening, pressing on the cube from both
sides, holds it."""


def expert_action(env: ManipulationEnv) -> np.ndarray:
    """The expert's action for the env's current state, in the env's action space."""
    task = env.task.name
    if task == "Reach":
        target, gripper = env.task.goal, OPEN
    elif task == "Push":
        target, gripper = _push_target(env), CLOSE
    else:
        target, gripper = _pick_target(env)
        return _towards(env, target, gripper, env.arm.turn_upright(TURN_STEP))
    return _towards(env, target, gripper)


def _push_target(env: ManipulationEnv) -> np.ndarray:
    """Behind the cube on the far side from the goal, then through the cube to the goal.

    While the end effector is off that line, or on the goal's side of the cube, it first goes
    over the cube's height and comes down behind it.
    """
    ee, cube, goal = env.arm.ee[0:3], env.task.achieved_goal(), env.task.goal
    d = push_direction(cube, goal)
    rel = ee - cube
    along = float(rel @ d)
    side = float(np.linalg.norm(rel[:2] - along * d[:2]))
    # An arm whose fingers or links reach below its end-effector point touches the table
    # higher up: there it pushes at the height it has, a little clear of the table.
    grounded = env.sim.plane is not None and env.arm.touches(env.sim.plane)
    low = ee[2] + 0.005 if grounded else cube[2]
    if along < -env.task.half_size and side < 2 * ALIGNED and (grounded or ee[2] < low + ALIGNED):
        # On the line behind the cube and low: push, steering back onto the line.
        ahead = cube + d * min(along + PUSH_STEP, -env.task.half_size)
        return np.array([ahead[0], ahead[1], low])
    behind = cube - d * PUSH_CLEARANCE
    if np.linalg.norm((ee - behind)[:2]) < ALIGNED:
        return behind
    hover = low + HOVER
    if ee[2] < hover - ALIGNED and np.linalg.norm(rel[:2]) < PUSH_CLEARANCE:
        return np.array([ee[0], ee[1], hover])  # too close to go round: rise first
    return np.array([behind[0], behind[1], hover if along > -PUSH_CLEARANCE else low])


def _pick_target(env: ManipulationEnv) -> tuple[np.ndarray, float]:
    """Over the cube with the gripper open, down onto it, close, then carry it to the goal."""
    ee, cube, goal = env.arm.ee[0:3], env.task.achieved_goal(), env.task.goal
    if env.arm.gripper[0] < GRASPED and env.arm.grips(env.task.object):
        return goal + (ee - cube), CLOSE  # the cube to the goal, wherever it sits in the grip
    if np.linalg.norm(ee - cube) < ALIGNED:
        return cube, CLOSE
    above = cube + np.array([0.0, 0.0, HOVER])
    # In end-effector control the env's IK sets the gripper's orientation, not the expert.
    upright = env.control == "ee" or env.arm.tilt < UPRIGHT
    if np.linalg.norm((ee - cube)[:2]) < ALIGNED and upright:
        return cube, OPEN
    if ee[2] < above[2] - ALIGNED and np.linalg.norm((ee - cube)[:2]) > ALIGNED:
        return np.array([ee[0], ee[1], above[2]]), OPEN
    return above, OPEN


def _towards(
    env: ManipulationEnv, target: np.ndarray, gripper: float, tilt: np.ndarray | None = None
) -> np.ndarray:
    """The action that moves the end effector one step (at most ``EE_STEP``) towards
    ``target``: a Cartesian step, or in joint control the joint motion that the end effector's
    Jacobian gives for it, turned by ``tilt`` as well where one is given."""
    arm = env.arm
    step = np.asarray(target, dtype=np.float64) - arm.ee[0:3]
    step *= min(1.0, EE_STEP / max(float(np.linalg.norm(step)), 1e-9))
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    if env.control == "ee":
        action[:3] = step / EE_STEP
    else:
        moves = arm.joint_motion(step, tilt) / JOINT_STEP
        # Scaled as a whole, not clipped joint by joint, so the end effector keeps its heading.
        action[: arm.num_joints] = moves / max(1.0, float(np.abs(moves).max()))
    action[-1] = gripper if arm.has_gripper else 0.0  # a slot the arm lacks stays zero
    return action
