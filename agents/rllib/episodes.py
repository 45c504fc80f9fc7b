"""Finished training episodes, from RLlib's env runners to the driver's TensorBoard logs.

An ``on_episode_end`` callback in each env runner logs every finished episode as a
``deepwe_rl.agents.metrics.Episode`` (robot, success, return, length, final distance) under
one metrics key; RLlib gathers the items of all runners into each ``Algorithm.train()`` result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS
from ray.rllib.utils.metrics.metrics_logger import MetricsLogger

from deepwe_rl.agents.metrics import Episode

EPISODES_KEY = "deepwe_rl_episodes"


def record_episode(
    *,
    episode: SingleAgentEpisode,
    metrics_logger: MetricsLogger,
    prev_episode_chunks: list[SingleAgentEpisode] | None = None,
    **kwargs: Any,
) -> None:
    """RLlib ``on_episode_end`` callback. An episode that spans several sample calls arrives
    as its last chunk plus the earlier ones; return and length add up over all of them."""
    chunks = [*(prev_episode_chunks or ()), episode]
    info = episode.get_infos(-1)
    obs = episode.get_observations(-1)
    distance = float(np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"]))
    metrics_logger.log_value(
        EPISODES_KEY,
        Episode(
            robot=str(info["robot"]),
            success=bool(info["is_success"]),
            ret=float(sum(chunk.get_return() for chunk in chunks)),
            length=sum(len(chunk) for chunk in chunks),
            final_distance=distance,
        ),
        reduce="item_series",
    )


def finished_episodes(result: dict[str, Any]) -> list[Episode]:
    """The episodes that finished during the iteration that produced ``result``."""
    items = result.get(ENV_RUNNER_RESULTS, {}).get(EPISODES_KEY)
    return [item for item in items if isinstance(item, Episode)] if isinstance(items, list) else []
