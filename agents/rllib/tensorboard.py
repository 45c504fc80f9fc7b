"""What the RLlib backend writes to TensorBoard besides the episode statistics."""

from __future__ import annotations

from typing import Any

from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.learner.learner import ENTROPY_KEY, POLICY_LOSS_KEY, VF_LOSS_KEY
from ray.rllib.utils.metrics import LEARNER_RESULTS
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

from deepwe_rl.agents.metrics import HPARAM_METRICS, flat_hparams
from deepwe_rl.config import RunConfig

LOSSES = {
    "train/policy_loss": POLICY_LOSS_KEY,
    "train/value_loss": VF_LOSS_KEY,
    "train/entropy": ENTROPY_KEY,
}
"""Our tag -> the key of RLlib's learner results."""


def write_hparams(writer: SummaryWriter, cfg: RunConfig) -> None:
    """The run's hyperparameters for TensorBoard's hparams plugin, into the run's own event
    files (not a sub-run), linked to the ``HPARAM_METRICS`` scalars."""
    experiment, start, end = hparams(flat_hparams(cfg), dict.fromkeys(HPARAM_METRICS, 0.0))
    for summary in (experiment, start, end):
        writer.file_writer.add_summary(summary)


def losses(result: dict[str, Any]) -> dict[str, float]:
    """``train/...`` scalars of one ``Algorithm.train()`` result."""
    learner = result.get(LEARNER_RESULTS, {}).get(DEFAULT_MODULE_ID, {})
    return {tag: float(learner[key]) for tag, key in LOSSES.items() if key in learner}


def write_scalars(writer: SummaryWriter, values: dict[str, float], step: int) -> None:
    for tag, value in values.items():
        writer.add_scalar(tag, value, step)
