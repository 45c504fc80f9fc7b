"""Where RLlib checkpoints of a run live, and saving them atomically."""

from __future__ import annotations

from pathlib import Path

from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.core import (
    COMPONENT_LEARNER,
    COMPONENT_LEARNER_GROUP,
    COMPONENT_RL_MODULE,
    DEFAULT_MODULE_ID,
)

from deepwe_rl.agents.run_dir import RLLIB_MODEL, RunDir, atomic_save
from deepwe_rl.config import ConfigError

FINAL = RLLIB_MODEL
"""The finished run's algorithm checkpoint, in the run directory."""

MODULE_IN_CHECKPOINT = Path(
    COMPONENT_LEARNER_GROUP, COMPONENT_LEARNER, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID
)
"""Where an algorithm checkpoint keeps the trained RLModule, loadable on its own."""


def ray_path(path: Path | str) -> str:
    """``path`` as Ray and RLlib take it: absolute, with ``~`` expanded.

    RLlib's save and restore calls read a path as a URI (pyarrow file systems), to which
    ``runs/x`` is not a path; every path handed to Ray or RLlib goes through here, so relative,
    absolute and ``~`` paths behave the same.
    """
    return str(Path(path).expanduser().resolve())


def save(algo: Algorithm, target: Path) -> Path:
    """``algo``'s full state as a checkpoint folder at ``target``, replacing any there."""
    return atomic_save(target, lambda tmp: algo.save_to_path(ray_path(tmp)))


def restore(algo: Algorithm, checkpoint: Path) -> None:
    """``algo``'s full state from the checkpoint folder ``checkpoint`` (resuming a run)."""
    algo.restore_from_path(ray_path(checkpoint))


def save_step(algo: Algorithm, run: RunDir, step: int, keep: int) -> Path:
    """A periodic checkpoint at ``step``; only the newest ``keep`` stay."""
    path = save(algo, run.checkpoint_path(step))
    run.prune_checkpoints(keep)
    return path


def final_path(run: RunDir) -> Path:
    return run.path / FINAL


def newest_model(run: RunDir) -> Path:
    """The final checkpoint, or else the newest periodic one."""
    path = run.newest_model()
    if path is None:
        raise ConfigError(f"no RLlib checkpoint in {run.path}: the run saved no model yet")
    return path


def newest_module(run: RunDir) -> str:
    """The trained RLModule in ``newest_model(run)``, as a path RLlib takes."""
    return ray_path(newest_model(run) / MODULE_IN_CHECKPOINT)


def restore_module(algo: Algorithm, source: RunDir) -> None:
    """Load ``source``'s trained RLModule into ``algo``'s learner and env runners (fine-tuning
    from another run: only the weights, not the optimizer or the step count)."""
    algo.restore_from_path(newest_module(source), component=str(MODULE_IN_CHECKPOINT))
