"""Deterministic evaluation of any policy on a set of robots, backend-agnostic."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.metrics import Episode, summarize
from deepwe_rl.config import EnvSection

Policy = Callable[[dict[str, np.ndarray]], np.ndarray]
"""A batch of observations (dict of arrays with a leading batch dim) to a batch of actions."""

EVAL_SEED = 1_000_000
"""Evaluation episodes use seeds from here on, apart from any training seed."""


class Evaluator:
    """One env per robot, stepped side by side so the policy sees them as one batch.

    The envs are built once and reused, so periodic evaluation costs only the episodes.
    """

    def __init__(self, env: EnvSection, robots: list[str], seed: int = EVAL_SEED) -> None:
        self.robots = list(robots)
        self.seed = seed
        self.envs: list[gym.Env] = []
        try:
            for robot in self.robots:
                self.envs.append(single_env(env, robot))
        except BaseException:
            self.close()
            raise

    def run(self, policy: Policy, episodes: int) -> list[Episode]:
        """``episodes`` episodes per robot; episode k of every robot uses seed ``seed + k``."""
        results: list[Episode] = []
        for k in range(episodes):
            obs = [env.reset(seed=self.seed + k)[0] for env in self.envs]
            active = list(range(len(self.envs)))
            returns = np.zeros(len(self.envs))
            lengths = np.zeros(len(self.envs), dtype=int)
            while active:
                batch = {key: np.stack([obs[i][key] for i in active]) for key in obs[active[0]]}
                actions = policy(batch)
                still = []
                for row, i in enumerate(active):
                    obs[i], reward, terminated, truncated, info = self.envs[i].step(actions[row])
                    returns[i] += reward
                    lengths[i] += 1
                    if terminated or truncated:
                        distance = float(
                            np.linalg.norm(obs[i]["achieved_goal"] - obs[i]["desired_goal"])
                        )
                        results.append(
                            Episode(
                                self.robots[i],
                                bool(info["is_success"]),
                                float(returns[i]),
                                int(lengths[i]),
                                distance,
                            )
                        )
                    else:
                        still.append(i)
                active = still
        return results

    def close(self) -> None:
        for env in self.envs:
            env.close()


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def per_robot_table(episodes: list[Episode]) -> dict[str, dict[str, float]]:
    """Robot -> success rate (with 95% interval), return, episode length, final distance."""
    table: dict[str, dict[str, float]] = {}
    for robot in dict.fromkeys(e.robot for e in episodes):
        eps = [e for e in episodes if e.robot == robot]
        low, high = wilson_interval(sum(e.success for e in eps), len(eps))
        table[robot] = {
            **summarize(eps),
            "success_ci_low": low,
            "success_ci_high": high,
            "final_distance": float(np.mean([e.final_distance for e in eps])),
            "episodes": len(eps),
        }
    return table


def write_eval_json(path: Path, episodes: list[Episode], step: int | None = None) -> Path:
    """Per-robot and overall results as JSON."""
    payload = {
        "step": step,
        "overall": summarize(episodes),
        "robots": per_robot_table(episodes),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    return path
