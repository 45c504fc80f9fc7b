"""Replay buffers of SAC and TQC runs (HER included) kept with their checkpoints.

The buffer of ``checkpoints/step_<n>.zip`` is ``checkpoints/step_<n>.replay_buffer.pkl``,
written with SB3's ``save_replay_buffer`` before the model, each file atomically: a checkpoint
that exists always has its buffer beside it. Only the newest checkpoint keeps one, since resume
reads only that, and buffers are large (every slot of ``algo.buffer_size``, filled or not).
``checkpoint.replay_buffer: false`` leaves buffers out; resume then starts with an empty one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from deepwe_rl.agents.run_dir import RunDir, atomic_save

SUFFIX = ".replay_buffer.pkl"


def buffer_path(run: RunDir, step: int) -> Path:
    """Where the replay buffer of the checkpoint at ``step`` lives."""
    return run.checkpoint_path(step, SUFFIX)


def save_buffer(model: BaseAlgorithm, run: RunDir) -> Path | None:
    """Write an off-policy model's replay buffer for its checkpoint at the current step (call
    before saving that checkpoint); None for models without one (PPO)."""
    if not isinstance(model, OffPolicyAlgorithm) or model.replay_buffer is None:
        return None

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            model.save_replay_buffer(f)

    return atomic_save(buffer_path(run, model.num_timesteps), write)


def prune_buffers(run: RunDir) -> None:
    """Delete every replay buffer but the newest checkpoint's, orphans of a save cut short
    between buffer and model included."""
    latest = run.latest_checkpoint()
    keep = buffer_path(run, latest[0]) if latest else None
    for path in run.checkpoints.glob(f"step_*{SUFFIX}"):
        if path != keep:
            path.unlink()


def restore_buffer(
    model: OffPolicyAlgorithm, run: RunDir, step: int, enabled: bool, learning_starts: int
) -> str:
    """Load the replay buffer saved with the checkpoint at ``step`` into ``model`` (its env
    already set, as HER needs). Without one, the model starts with an empty buffer and first
    collects ``learning_starts`` new steps. Returns a line saying which happened."""
    path = buffer_path(run, step)
    if enabled and path.is_file():
        with warnings.catch_warnings():
            # HER closes the episodes the checkpoint cut off, as it should: the envs reset.
            warnings.filterwarnings("ignore", "The last trajectory in the replay buffer")
            model.load_replay_buffer(path)
        buffer = model.replay_buffer
        assert buffer is not None
        stored = buffer.size() * buffer.n_envs
        return f"replay buffer restored: {stored} transitions from {path.name}"
    model.learning_starts = model.num_timesteps + learning_starts
    why = (
        "checkpoint.replay_buffer is false"
        if not enabled
        else f"no {path.name} beside the checkpoint"
    )
    return (
        f"replay buffer not restored ({why}): starting with an empty one, "
        f"{learning_starts} steps before updates resume"
    )
