"""Where RLlib checkpoints of a run live, and saving them atomically."""

from __future__ import annotations

from pathlib import Path

from deepwe_rl.agents.run_dir import RunDir, atomic_save
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import (
    COMPONENT_LEARNER,
    COMPONENT_LEARNER_GROUP,
    COMPONENT_RL_MODULE,
    DEFAULT_MODULE_ID,
)

from deepwe_rl.config import ConfigError

FINAL = "rllib_checkpoint"
"""The finished run's algorithm checkpoint, in the run directory."""

MODULE_IN_CHECKPOINT = Path(
    COMPONENT_LEARNER_GROUP, COMPONENT_LEARNER, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
)
"""Where an algorithm checkpoint keeps the trained RLModule, loadable on its own."""


def save(algo: Algorithm, target: Path) -> Path:
    """``algo``'s full state as a checkpoint folder at ``target``, replacing any there."""
    return atomic_save(target, lambda tmp: algo.save_to_path(str(tmp)))


def save_step(algo: Algorithm, run: RunDir, step: int, keep: int) -> Path:
    """A periodic checkpoint at ``step``; only the newest ``keep`` stay."""
    path = save(algo, run.checkpoint_path(step))
    run.prune_checkpoints(keep)
    return path


def final_path(run: RunDir) -> Path:
    return run.path / FINAL


def newest_model(run: RunDir) -> Path:
    """The final checkpoint, or else the newest periodic one."""
    if final_path(run).is_dir():
        return final_path(run)
    latest = run.latest_checkpoint()
    if latest is None:
        raise ConfigError(f"no RLlib checkpoint in {run.path}: the run saved no model yet")
    return latest[1]


def restore_module(algo: Algorithm, source: RunDir) -> None:
    """Load ``source``'s trained RLModule into ``algo``'s learner and env runners (fine-tuning
    from another run: only the weights, not the optimizer or the step count)."""
    algo.restore_from_path(
        str(newest_model(source) / MODULE_IN_CHECKPOINT), component=str(MODULE_IN_CHECKPOINT)
    )
