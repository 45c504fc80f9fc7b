"""Where SB3 models of a run live, and saving them atomically: the periodic checkpoints
``checkpoints/step_<n>.zip`` (with the replay buffer of SAC and TQC beside the newest) and the
finished run's ``model.zip``. The one place an SB3 zip is written."""

from __future__ import annotations

from pathlib import Path

from stable_baselines3.common.base_class import BaseAlgorithm

from deepwe_rl.agents.run_dir import SB3_MODEL, RunDir, atomic_save
from deepwe_rl.agents.sb3.replay_buffers import prune_buffers, save_buffer
from deepwe_rl.config import ConfigError

SUFFIX = ".zip"
"""An SB3 checkpoint's file suffix, after ``step_<n>``."""


def _save(model: BaseAlgorithm, target: Path) -> Path:
    """``model`` as an SB3 zip at ``target``, written atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            model.save(f)

    return atomic_save(target, write)


def save_checkpoint(
    model: BaseAlgorithm, run: RunDir, keep: int, replay_buffer: bool = True
) -> str:
    """Save the model atomically as ``checkpoints/step_<n>.zip``, after its replay buffer (SAC
    and TQC, unless ``replay_buffer`` is false), and prune old checkpoints and buffers."""
    if replay_buffer:
        save_buffer(model, run)
    path = _save(model, run.checkpoint_path(model.num_timesteps, SUFFIX))
    run.prune_checkpoints(keep)
    prune_buffers(run)
    return str(path)


def final_path(run: RunDir) -> Path:
    return run.path / SB3_MODEL


def save_final(model: BaseAlgorithm, run: RunDir) -> Path:
    """The finished run's ``model.zip``."""
    return _save(model, final_path(run))


def newest_model(run: RunDir) -> Path:
    """The final model, or else the newest periodic checkpoint."""
    path = run.newest_model()
    if path is None:
        raise ConfigError(f"run has no model or checkpoint yet: {run.path}")
    return path
