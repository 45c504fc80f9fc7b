"""Episode statistics per robot, under the TensorBoard tag names both backends share.

Tags: ``<prefix>/success_rate``, ``<prefix>/return``, ``<prefix>/episode_length`` overall, and
``<prefix>/<robot>/...`` per robot, with prefix ``rollout`` (training episodes) or ``eval``.
Losses go under ``train/`` and throughput under ``time/fps``. The fault and placement tags, the
scalars the hparams dashboard shows, and the hyperparameters' flattening are here too, so both
backends write the same names.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from deepwe_rl.config import RunConfig

STATS = ("success_rate", "return", "episode_length")

PLACEMENT_TAG = "cluster/rollout_nodes"
"""Text: the table of where each env runner or env actor runs."""
ENV_RUNNER_RESTARTS_TAG = "faults/env_runner_restarts"
"""RLlib: env runners restarted so far."""
HEALTHY_ENV_RUNNERS_TAG = "faults/healthy_env_runners"
"""RLlib: env runners healthy now."""
ENV_ACTOR_RESTARTS_TAG = "faults/env_actor_restarts"
"""SB3 with the Ray VecEnv: env actors replaced so far."""

HPARAM_METRICS = ("rollout/success_rate", "eval/success_rate", "rollout/return")
"""Scalar tags the hparams dashboard shows next to each run's hyperparameters."""

HParam = bool | int | float | str
"""The value kinds TensorBoard's hparams plugin takes."""


def flat_hparams(cfg: RunConfig) -> dict[str, HParam]:
    """The whole config as ``section.key -> value`` for TensorBoard's hparams plugin.

    Lists become comma-joined strings and None the string "none" rather than being dropped:
    the plugin takes only bools, numbers and strings, and a run's robot list (``env.robots``)
    is among the settings runs are compared by, so every key stays, as a filterable column.
    """
    out: dict[str, HParam] = {}

    def visit(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                visit(f"{name}.", value)
            elif isinstance(value, list):
                out[name] = ",".join(map(str, value))
            else:
                out[name] = "none" if value is None else value

    visit("", cfg.model_dump(mode="json"))
    return out


@dataclass(frozen=True)
class Episode:
    """One finished episode: which robot, whether it succeeded, its return and length, and
    the final distance between achieved and desired goal (NaN when not measured)."""

    robot: str
    success: bool
    ret: float
    length: int
    final_distance: float = float("nan")


def summarize(episodes: list[Episode]) -> dict[str, float]:
    """Mean success rate, return and episode length of a list of episodes."""
    if not episodes:
        return {}
    return {
        "success_rate": float(np.mean([e.success for e in episodes])),
        "return": float(np.mean([e.ret for e in episodes])),
        "episode_length": float(np.mean([e.length for e in episodes])),
    }


def scalars(prefix: str, episodes: list[Episode]) -> dict[str, float]:
    """Tag -> value for the overall and per-robot statistics of ``episodes``."""
    by_robot: dict[str, list[Episode]] = defaultdict(list)
    for e in episodes:
        by_robot[e.robot].append(e)
    out = {f"{prefix}/{k}": v for k, v in summarize(episodes).items()}
    for robot, eps in sorted(by_robot.items()):
        out.update({f"{prefix}/{robot}/{k}": v for k, v in summarize(eps).items()})
    return out


class EpisodeWindow:
    """The most recent training episodes of each robot (a sliding window per robot)."""

    def __init__(self, size: int = 100) -> None:
        self._by_robot: dict[str, deque[Episode]] = defaultdict(lambda: deque(maxlen=size))

    def add(self, episode: Episode) -> None:
        self._by_robot[episode.robot].append(episode)

    def episodes(self) -> list[Episode]:
        return [e for window in self._by_robot.values() for e in window]
