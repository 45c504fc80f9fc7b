"""Episode statistics per robot, under the TensorBoard tag names both backends share.

Tags: ``<prefix>/success_rate``, ``<prefix>/return``, ``<prefix>/episode_length`` overall, and
``<prefix>/<robot>/...`` per robot, with prefix ``rollout`` (training episodes) or ``eval``.
Losses go under ``train/`` and throughput under ``time/fps``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

STATS = ("success_rate", "return", "episode_length")


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
