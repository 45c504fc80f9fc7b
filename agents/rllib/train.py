"""The RLlib backend's entry points: train (fresh or resumed, as planned) and load a trained
policy.

Ray and RLlib are imported only when one of these runs, so importing this module stays cheap.
"""

from __future__ import annotations

from deepwe_rl.agents.evaluation import Policy
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.run_plan import RunPlan


def train(plan: RunPlan, run: RunDir) -> None:
    """Train RLlib PPO into ``run`` up to the config's ``total_timesteps`` env steps: from
    scratch (or ``plan.source``'s weights), or on from ``plan.checkpoint``, counting steps on
    from it and extending the same TensorBoard curves. Ray is already running (the plan's
    orchestrator started it).

    Raises TrainingInterrupted (after saving a checkpoint) on Ctrl-C or SIGTERM.
    """
    from deepwe_rl.agents.rllib.loop import run_training

    run_training(plan, run)


def load_policy(run: RunDir) -> Policy:
    """The run's final policy (else its newest checkpoint's) as a function from a batch of
    observations to deterministic actions (B, max_joints + 1), loaded without starting Ray."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    from deepwe_rl.agents.rllib.checkpoints import newest_module
    from deepwe_rl.agents.rllib.module import greedy_policy

    module = RLModule.from_checkpoint(newest_module(run))
    return greedy_policy(module)
