"""The RLlib backend's entry points: train, resume and load a trained policy.

Ray and RLlib are imported only when one of these runs, so importing this module stays cheap.
"""

from __future__ import annotations

from deepwe_rl.agents.evaluation import Policy
from deepwe_rl.agents.robots import resolve_robots
from deepwe_rl.agents.run_dir import RunDir

from deepwe_rl.config import ConfigError, RunConfig


def train(cfg: RunConfig, run: RunDir, robots: list[str]) -> None:
    """Train RLlib PPO from scratch for ``cfg.total_timesteps`` env steps into ``run``.

    Raises ConfigError for a config this backend cannot run, and TrainingInterrupted (after
    saving a checkpoint) on Ctrl-C or SIGTERM.
    """
    from deepwe_rl.agents.rllib.loop import run_training

    run_training(cfg, run, robots)


def resume(run: RunDir) -> None:
    """Continue ``run`` from its newest checkpoint up to its config's ``total_timesteps``,
    counting steps on from the checkpoint and extending the same TensorBoard curves."""
    from deepwe_rl.agents.rllib.loop import run_training

    cfg = run.config()
    latest = run.latest_checkpoint()
    if latest is None:
        raise ConfigError(f"no checkpoint to resume from in {run.checkpoints}")
    run_training(cfg, run, resolve_robots(cfg.env.robots), checkpoint=latest[1])


def load_policy(run: RunDir) -> Policy:
    """The run's final policy (else its newest checkpoint's) as a function from a batch of
    observations to deterministic actions (B, max_joints + 1), loaded without starting Ray."""
    from deepwe_rl.agents.rllib.checkpoints import newest_module
    from deepwe_rl.agents.rllib.module import greedy_policy
    from ray.rllib.core.rl_module.rl_module import RLModule

    module = RLModule.from_checkpoint(newest_module(run))
    return greedy_policy(module)
