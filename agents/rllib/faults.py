"""Env runners that fail, and where they run: RLlib restarts a dead env runner by itself (its
``fault_tolerance`` settings, set in ``algorithm.build_config``); this module reports those
restarts and the runners' nodes to the console and to TensorBoard.

RLlib counts the restarts in each ``Algorithm.train()`` result under ``fault_tolerance``
(``num_remote_worker_restarts``, ``num_healthy_workers``). A killed runner's iteration samples
from the runners still healthy, and so do the iterations while Ray restarts its process (the new
process builds its envs first, seconds to a minute or more on a busy machine); the first iteration
after that brings it back with the current weights.
"""

from __future__ import annotations

import logging
from typing import Any

from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.utils.metrics import FAULT_TOLERANCE_STATS
from torch.utils.tensorboard import SummaryWriter

from deepwe_rl.agents.metrics import (
    ENV_RUNNER_RESTARTS_TAG,
    HEALTHY_ENV_RUNNERS_TAG,
    PLACEMENT_TAG,
)
from deepwe_rl.agents.ray_cluster import Placement, here, placement_summary, placement_text

logger = logging.getLogger(__name__)


RESTART_DELAY_S = 1.0
"""How long an env runner whose env raised waits before it exits to be restarted (RLlib's
default, 60 s, stalls a small run for a minute)."""


def placements(algo: Algorithm) -> list[Placement]:
    """Where the healthy env runners run; the driver's own runner when there are none."""
    group = algo.env_runner_group
    if group is None or group.num_remote_env_runners() == 0:
        return [here("env runner 0 (driver)")]
    return group.foreach_env_runner(
        lambda runner: here(f"env runner {runner.worker_index}"), local_env_runner=False
    )


class RunnerWatch:
    """Follows env-runner failures across iterations: console warnings when runners go down
    and when RLlib has restarted them, ``faults/...`` scalars every iteration, and the runners'
    nodes as TensorBoard text at the start and after each restart."""

    def __init__(self, algo: Algorithm, writer: SummaryWriter, step: int) -> None:
        self.algo = algo
        self.writer = writer
        self.restarts = 0
        self.healthy = algo.config.num_env_runners
        self._write_placement(step)

    def _write_placement(self, step: int) -> None:
        where = placements(self.algo)
        logger.info("env runners: %s", placement_summary(where))
        self.writer.add_text(PLACEMENT_TAG, placement_text(where), step)

    def scalars(self, result: dict[str, Any], step: int) -> dict[str, float]:
        """``faults/...`` scalars of one ``train()`` result, warning about runners that went
        down and about runners RLlib restarted since the last result."""
        stats = result.get(FAULT_TOLERANCE_STATS, {})
        restarts = int(stats.get("num_remote_worker_restarts", 0))
        healthy = int(stats.get("num_healthy_workers", 0))
        wanted = self.algo.config.num_env_runners
        if healthy < wanted and healthy != self.healthy:
            logger.warning(
                "%d of %d env runners failed at step %d; RLlib restarts them and samples from "
                "the others meanwhile", wanted - healthy, wanted, step,
            )  # fmt: skip
        if restarts > self.restarts:
            logger.warning(
                "RLlib restarted %d env runner(s) by step %d (%d restarts in this session, "
                "%d of %d runners healthy)", restarts - self.restarts, step, restarts, healthy,
                wanted,
            )  # fmt: skip
            self.restarts = restarts
            self._write_placement(step)
        self.healthy = healthy
        return {ENV_RUNNER_RESTARTS_TAG: float(restarts), HEALTHY_ENV_RUNNERS_TAG: float(healthy)}
