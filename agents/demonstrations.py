"""Demonstrations from the scripted expert: episodes on a run's robots, every step labelled.

The expert (``deepwe_rl.envs.experts``) drives, or a learner's policy drives and the expert
labels the states the learner visits (DAgger). Either way every observation is stored with the
expert's action for it and the return-to-go the driver earned from there, ready for behaviour
cloning. Observations keep the shared Dict contract, so mixed robots share one dataset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from deepwe_rl.agents.run_dir import atomic_save
from deepwe_rl.envs.experts import expert_action

Act = Callable[[dict[str, np.ndarray]], np.ndarray]
"""A batch of observations (Dict of stacked arrays) to a batch of actions."""


@dataclass
class Demonstrations:
    """Observations (each key stacked over steps), the expert's action at each, the driver's
    discounted return-to-go from each, and what collecting them cost."""

    observations: dict[str, np.ndarray]
    actions: np.ndarray
    returns: np.ndarray
    env_steps: int
    episodes: int
    successes: int

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def success_rate(self) -> float:
        return self.successes / max(self.episodes, 1)

    def rows(self, index: np.ndarray) -> Demonstrations:
        """The steps at ``index``; the collection counts stay the whole dataset's."""
        return Demonstrations(
            {k: v[index] for k, v in self.observations.items()},
            self.actions[index],
            self.returns[index],
            self.env_steps,
            self.episodes,
            self.successes,
        )

    def sample(self, steps: int, seed: int) -> Demonstrations:
        """``steps`` steps drawn at random without repeats (all of them if there are fewer)."""
        rng = np.random.default_rng(seed)
        return self.rows(np.sort(rng.choice(len(self), min(steps, len(self)), replace=False)))

    def save(self, path: Path) -> Path:
        """Everything in one compressed ``.npz`` at ``path``, written atomically."""
        arrays = {f"obs/{k}": v for k, v in self.observations.items()}
        counts = np.asarray([self.env_steps, self.episodes, self.successes])

        def write(tmp: Path) -> None:
            with tmp.open("wb") as f:
                np.savez_compressed(f, actions=self.actions, returns=self.returns, counts=counts,
                                    **arrays)  # fmt: skip

        return atomic_save(path, write)

    @classmethod
    def load(cls, path: Path) -> Demonstrations:
        """What ``save`` wrote."""
        with np.load(path) as f:
            observations = {k[4:]: f[k] for k in f.files if k.startswith("obs/")}
            env_steps, episodes, successes = (int(n) for n in f["counts"])
            return cls(observations, f["actions"], f["returns"], env_steps, episodes, successes)

    def extend(self, other: Demonstrations) -> Demonstrations:
        """Both datasets in one (DAgger aggregates every round's)."""
        return Demonstrations(
            {k: np.concatenate([v, other.observations[k]]) for k, v in self.observations.items()},
            np.concatenate([self.actions, other.actions]),
            np.concatenate([self.returns, other.returns]),
            self.env_steps + other.env_steps,
            self.episodes + other.episodes,
            self.successes + other.successes,
        )


def _returns_to_go(rewards: list[float], gamma: float) -> list[float]:
    out, g = [], 0.0
    for r in reversed(rewards):
        g = r + gamma * g
        out.append(g)
    return out[::-1]


def collect(
    envs: Sequence[gym.Env],
    episodes: int,
    seed: int,
    gamma: float,
    act: Act | None = None,
) -> Demonstrations:
    """Run ``episodes`` episodes over ``envs`` side by side, each env reset with its own seed
    from ``seed`` on; the expert labels every step, and drives unless ``act`` is given."""
    obs_log: list[dict[str, np.ndarray]] = []
    actions: list[np.ndarray] = []
    returns: list[float] = []
    started = finished = successes = steps = 0
    traces: list[list[tuple[int, float]]] = [[] for _ in envs]
    current: list[dict[str, np.ndarray] | None] = [None] * len(envs)
    for i, env in enumerate(envs):
        if started < episodes:
            current[i] = env.reset(seed=seed + started)[0]
            started += 1
    while finished < episodes:
        live = [i for i, o in enumerate(current) if o is not None]
        batch = {k: np.stack([current[i][k] for i in live]) for k in current[live[0]]}
        labels = [expert_action(envs[i].unwrapped) for i in live]
        driven = act(batch) if act is not None else np.stack(labels)
        for j, i in enumerate(live):
            obs_log.append(current[i])
            actions.append(labels[j])
            returns.append(0.0)
            nxt, reward, terminated, truncated, info = envs[i].step(driven[j])
            steps += 1
            traces[i].append((len(returns) - 1, float(reward)))
            current[i] = nxt
            if terminated or truncated:
                finished += 1
                successes += bool(info.get("is_success", False))
                rows, rewards = zip(*traces[i], strict=True)
                for row, g in zip(rows, _returns_to_go(list(rewards), gamma), strict=True):
                    returns[row] = g
                traces[i] = []
                current[i] = None
                if started < episodes:
                    current[i] = envs[i].reset(seed=seed + started)[0]
                    started += 1
    observations = {k: np.stack([o[k] for o in obs_log]) for k in obs_log[0]}
    return Demonstrations(
        observations,
        np.stack(actions).astype(np.float32),
        np.asarray(returns, dtype=np.float32),
        steps,
        finished,
        successes,
    )
