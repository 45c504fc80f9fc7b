"""Env steps per second of deepwe_rl/Reach-v0 (Panda, joint control) against panda-gym's
PandaReachJoints-v3 and against the raw PyBullet floor, side by side on one core; and, in
end-effector control, against panda-gym's PandaReach-v3.

The floor builds the same world as deepwe_rl's env (Panda with its URDF inertias, a ground
plane, 1/500 s, 20 substeps, position control of arm and fingers) and reads the same state
(joint states, end-effector link state) with no environment around it. It is run both as 20
stepSimulation calls and as one call with 20 internal substeps, and the script reports how far
apart the two styles' trajectories drift (deepwe_rl uses 20 calls: the internal style is
different physics for position-controlled joints).

    python benchmarks/env_throughput.py [--steps 3000] [--rounds 5]

The last line printed is a JSON object with the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pybullet as p
import pybullet_data

import deepwe_rl.envs  # noqa: F401

PANDA = Path(pybullet_data.getDataPath()) / "franka_panda/panda.urdf"
ARM = list(range(7))
FINGERS = [9, 10]
HOME = [0.0, 0.41, 0.0, -1.85, 0.0, 2.26, 0.79]


class RawPanda:
    """The physics and state reads of one env step, and nothing else."""

    def __init__(self, internal_substeps: bool) -> None:
        self.cid = p.connect(p.DIRECT)
        self.internal = internal_substeps
        if internal_substeps:
            p.setPhysicsEngineParameter(
                fixedTimeStep=0.04, numSubSteps=20, physicsClientId=self.cid
            )
        else:
            p.setTimeStep(0.002, physicsClientId=self.cid)
        p.setGravity(0, 0, -9.81, physicsClientId=self.cid)
        self.body = p.loadURDF(
            str(PANDA),
            useFixedBase=True,
            flags=p.URDF_USE_INERTIA_FROM_FILE,
            physicsClientId=self.cid,
        )
        plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=self.cid)
        p.createMultiBody(0.0, plane, -1, [0.0, 0.0, 0.0], physicsClientId=self.cid)
        for j, q in zip(ARM, HOME, strict=True):
            p.resetJointState(self.body, j, q, physicsClientId=self.cid)
        self.q = np.array(HOME)

    def step(self, action: np.ndarray) -> np.ndarray:
        targets = self.q + 0.05 * action[:7]
        p.setJointMotorControlArray(
            self.body,
            ARM,
            p.POSITION_CONTROL,
            targetPositions=targets.tolist(),
            forces=[87.0] * 4 + [12.0] * 3,
            physicsClientId=self.cid,
        )
        p.setJointMotorControlArray(
            self.body,
            FINGERS,
            p.POSITION_CONTROL,
            targetPositions=[0.04, 0.04],
            forces=[20.0, 20.0],
            physicsClientId=self.cid,
        )
        for _ in range(1 if self.internal else 20):
            p.stepSimulation(physicsClientId=self.cid)
        states = p.getJointStates(self.body, ARM + FINGERS, physicsClientId=self.cid)
        self.q = np.array([s[0] for s in states[:7]])
        p.getLinkState(
            self.body,
            11,
            computeLinkVelocity=1,
            computeForwardKinematics=1,
            physicsClientId=self.cid,
        )
        return self.q


def time_env(env: gym.Env, actions: np.ndarray) -> float:
    env.reset(seed=0)
    start = time.perf_counter()
    for a in actions:
        *_, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def time_raw(raw: RawPanda, actions: np.ndarray) -> float:
    start = time.perf_counter()
    for a in actions:
        raw.step(a)
    return len(actions) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    import panda_gym  # noqa: F401  (registers PandaReachJoints-v3)

    actions = np.random.default_rng(0).uniform(-1, 1, (args.steps, 9)).astype(np.float32)
    ours = gym.make("deepwe_rl/Reach-v0", robot="panda", control="joints")
    theirs = gym.make("PandaReachJoints-v3")
    ours_ee = gym.make("deepwe_rl/Reach-v0", robot="panda", control="ee")
    theirs_ee = gym.make("PandaReach-v3")
    raw_one, raw_many = RawPanda(True), RawPanda(False)

    contenders: dict[str, Callable[[], float]] = {
        "deepwe_reach": lambda: time_env(ours, actions),
        "panda_gym_reach_joints": lambda: time_env(
            theirs, actions[:, : theirs.action_space.shape[0]]
        ),
        "deepwe_reach_ee": lambda: time_env(ours_ee, actions[:, :4]),
        "panda_gym_reach_ee": lambda: time_env(
            theirs_ee, actions[:, : theirs_ee.action_space.shape[0]]
        ),
        "raw_internal_substeps": lambda: time_raw(raw_one, actions),
        "raw_python_substeps": lambda: time_raw(raw_many, actions),
    }
    samples: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(args.rounds):  # interleaved, so drift in machine load hits all alike
        for name, run in contenders.items():
            samples[name].append(run())
    rate = {k: statistics.median(v) for k, v in samples.items()}

    check_one, check_many = RawPanda(True), RawPanda(False)
    drift = max(float(np.abs(check_one.step(a) - check_many.step(a)).max()) for a in actions[:200])
    floor = max(rate["raw_internal_substeps"], rate["raw_python_substeps"])
    result = {
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        **{f"{k}_steps_per_s": round(v, 1) for k, v in rate.items()},
        "ratio_deepwe_vs_panda_gym": round(
            rate["deepwe_reach"] / rate["panda_gym_reach_joints"], 3
        ),
        "ratio_deepwe_vs_floor": round(rate["deepwe_reach"] / floor, 3),
        "ratio_deepwe_ee_vs_panda_gym_ee": round(
            rate["deepwe_reach_ee"] / rate["panda_gym_reach_ee"], 3
        ),
        "ratio_floor_vs_panda_gym": round(floor / rate["panda_gym_reach_joints"], 3),
        "substep_styles_max_joint_diff_rad": drift,
    }
    print(f"{'contender':28s} {'steps/s (median)':>18s}")
    for name, value in rate.items():
        print(f"{name:28s} {value:18.0f}")
    print(
        f"joints: deepwe / panda-gym {result['ratio_deepwe_vs_panda_gym']:.2f}x, "
        f"deepwe / floor {result['ratio_deepwe_vs_floor']:.2f}, "
        f"floor / panda-gym {result['ratio_floor_vs_panda_gym']:.2f}x"
    )
    print(f"ee control: deepwe / panda-gym {result['ratio_deepwe_ee_vs_panda_gym_ee']:.2f}x")
    print(f"max joint difference between substep styles over 200 steps: {drift:.2e} rad")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
