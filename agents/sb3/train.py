"""Training, resuming and loading SB3 runs (PPO, SAC and TQC, with HER for sparse goal tasks),
as ``agents.training`` planned them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3 import PPO, SAC, HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger, TensorBoardOutputFormat
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecMonitor

from deepwe_rl.agents.env_factory import training_env_fns
from deepwe_rl.agents.evaluation import Evaluator, Policy
from deepwe_rl.agents.interrupts import TrainingInterrupted, interrupt_at_safe_points
from deepwe_rl.agents.metrics import flat_hparams
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.run_plan import RunPlan
from deepwe_rl.agents.sb3.callbacks import (
    HParams,
    PeriodicCheckpoint,
    PeriodicEval,
    RobotEpisodes,
    StopWhenAsked,
)
from deepwe_rl.agents.sb3.checkpoints import newest_model, save_checkpoint, save_final
from deepwe_rl.agents.sb3.policies import DeepWePPOPolicy, DeepWeSACPolicy
from deepwe_rl.agents.sb3.replay_buffers import restore_buffer
from deepwe_rl.config import ConfigError, RunConfig
from deepwe_rl.morphology import STREAM_INDEX

ALGOS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC}
"""The algorithms SB3 itself provides; ``tqc`` comes from sb3-contrib (see ``algo_class``)."""

_SHARED_TAGS = {
    "train/policy_gradient_loss": "train/policy_loss",
    "train/entropy_loss": "train/entropy",
}
"""SB3's loss names written under the tags the RLlib backend uses too (entropy, not its
negative)."""


class SharedTagsTensorBoard(TensorBoardOutputFormat):
    """SB3's TensorBoard output with its PPO loss names mapped onto the shared tags."""

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0
    ) -> None:
        values = {_SHARED_TAGS.get(k, k): v for k, v in key_values.items()}
        if "train/entropy" in values:
            values["train/entropy"] = -values["train/entropy"]
        excluded = {_SHARED_TAGS.get(k, k): v for k, v in key_excluded.items()}
        super().write(values, excluded, step)


def _vec_env(cfg: RunConfig, robots: list[str]) -> VecEnv:
    """The training envs: in this process, in subprocesses, or in Ray actors (Ray started)."""
    fns = training_env_fns(cfg.env, robots)
    if cfg.env.vec == "ray":
        from deepwe_rl.agents.sb3.ray_vec_env import RayVecEnv

        venv: VecEnv = RayVecEnv(fns, cfg.ray.envs_per_runner, cfg.ray.max_restarts)
    elif cfg.env.vec == "subproc":
        venv = SubprocVecEnv(fns, "forkserver")
    else:
        venv = DummyVecEnv(fns)
    venv = VecMonitor(venv)
    venv.seed(cfg.seed)
    return venv


def _mean_action_slots(venv: VecEnv) -> float:
    """Average number of real action slots (joints plus gripper) over the vector's robots."""
    obs = venv.reset()
    real = obs["joint_mask"].sum(axis=1) + obs["stream_mask"][:, STREAM_INDEX["gripper"]]
    return float(np.mean(real))


def _new_model(cfg: RunConfig, venv: VecEnv) -> BaseAlgorithm:
    a, network = cfg.algo, cfg.network_config().model_dump()
    common = {
        "learning_rate": a.learning_rate,
        "gamma": a.gamma,
        "batch_size": a.batch_size,
        "seed": cfg.seed,
        "device": "cpu",
        "verbose": 0,
    }
    if a.name == "ppo":
        return PPO(
            DeepWePPOPolicy,
            venv,
            n_steps=a.n_steps,
            n_epochs=a.n_epochs,
            gae_lambda=a.gae_lambda,
            clip_range=a.clip_range,
            ent_coef=a.ent_coef,
            vf_coef=a.vf_coef,
            max_grad_norm=a.max_grad_norm,
            target_kl=a.target_kl,
            policy_kwargs={
                "network": network,
                "share_encoder": cfg.network.share_encoder,
                "log_std_init": a.log_std_init,
            },
            **common,
        )
    else:  # SAC or TQC: agents.training checked the name
        her = (
            {
                "replay_buffer_class": HerReplayBuffer,
                "replay_buffer_kwargs": {
                    "n_sampled_goal": a.her_n_sampled_goal,
                    "goal_selection_strategy": "future",
                },
            }
            if a.her
            else {}
        )
        policy: Any = DeepWeSACPolicy
        policy_kwargs: dict[str, Any] = {"network": network}
        extra: dict[str, Any] = {}
        if a.name == "tqc":
            from deepwe_rl.agents.sb3.tqc_policy import DeepWeTQCPolicy

            policy = DeepWeTQCPolicy
            policy_kwargs["n_quantiles"] = a.n_quantiles
            extra["top_quantiles_to_drop_per_net"] = a.top_quantiles_to_drop
        return algo_class(a.name)(
            policy,
            venv,
            buffer_size=a.buffer_size,
            learning_starts=a.learning_starts,
            tau=a.tau,
            train_freq=a.train_freq,
            gradient_steps=a.gradient_steps,
            # Padded slots carry no entropy, so the target counts the robots' real slots.
            target_entropy=-_mean_action_slots(venv),
            policy_kwargs=policy_kwargs,
            **her,
            **extra,
            **common,
        )


def algo_class(name: str) -> type[BaseAlgorithm]:
    """The SB3 algorithm class for ``algo.name``; TQC needs sb3-contrib installed."""
    if name != "tqc":
        return ALGOS[name]
    try:
        from sb3_contrib import TQC
    except ImportError:
        raise ConfigError(
            "config error: algo.name: tqc needs sb3-contrib (pip install 'deepwe-rl[contrib]')"
        ) from None
    return TQC


def _log_to(model: BaseAlgorithm, run: RunDir) -> None:
    model.set_logger(Logger(str(run.tb), [SharedTagsTensorBoard(str(run.tb))]))


def _pretrain(model: BaseAlgorithm, plan: RunPlan, run: RunDir) -> None:
    """Behaviour cloning from the scripted expert, each round logged under ``demonstrations/``
    at the round's index, rehearsing the ``init_from`` run's demonstrations if asked; what it
    fitted is kept in the run directory."""
    from deepwe_rl.agents.demonstrations import Demonstrations
    from deepwe_rl.agents.sb3.behaviour_cloning import pretrain

    cfg, rehearsal = plan.cfg, None
    if plan.source is not None and cfg.demonstrations.rehearsal_steps:
        kept = Demonstrations.load(plan.source.demonstrations)
        rehearsal = kept.sample(cfg.demonstrations.rehearsal_steps, cfg.seed)
    env_steps = 0
    for k, r in enumerate(pretrain(model, cfg, plan.robots, rehearsal, run.demonstrations)):
        env_steps += r.env_steps
        model.logger.record("demonstrations/success", r.success_rate)
        model.logger.record("demonstrations/action_loss", r.action_loss)
        model.logger.record("demonstrations/value_loss", r.value_loss)
        model.logger.record("demonstrations/dataset_size", r.dataset_size)
        model.logger.record("demonstrations/env_steps", env_steps)
        model.logger.dump(k)
        print(
            f"demonstrations round {k} ({r.driver} drove {r.episodes} episodes): "
            f"success {r.success_rate:.2f}, action loss {r.action_loss:.4f}",
            file=sys.stderr,
        )


def _learn(model: BaseAlgorithm, plan: RunPlan, run: RunDir, reset: bool) -> None:
    """Train up to ``cfg.total_timesteps`` with the run's logging, evaluation and checkpoints;
    Ctrl-C or SIGTERM saves a checkpoint and raises TrainingInterrupted."""
    cfg, c = plan.cfg, plan.cfg.checkpoint
    callbacks = [
        RobotEpisodes(),
        HParams(flat_hparams(cfg)),
        PeriodicCheckpoint(run, c.freq, c.keep, c.replay_buffer),
    ]
    if cfg.env.vec == "ray":
        from deepwe_rl.agents.sb3.ray_rollouts import RayRollouts

        callbacks.append(RayRollouts())
    evaluator = Evaluator(cfg.env, plan.eval_robots) if cfg.eval.freq else None
    if evaluator is not None:
        cloned = reset and cfg.demonstrations.enabled
        callbacks.append(PeriodicEval(evaluator, cfg.eval.episodes, run, cfg.eval.freq, cloned))
    remaining = cfg.total_timesteps - model.num_timesteps
    try:
        with interrupt_at_safe_points() as check:
            model.learn(
                remaining,
                callback=[StopWhenAsked(check), *callbacks],
                reset_num_timesteps=reset,
                progress_bar=sys.stderr.isatty(),
            )
    except KeyboardInterrupt:
        path = save_checkpoint(model, run, c.keep, c.replay_buffer)
        raise TrainingInterrupted(model.num_timesteps, Path(path)) from None
    finally:
        if evaluator is not None:
            evaluator.close()
        model.get_env().close()
    save_checkpoint(model, run, c.keep, c.replay_buffer)
    save_final(model, run)


def train(plan: RunPlan, run: RunDir) -> None:
    """Train ``plan`` into ``run`` up to the config's ``total_timesteps``. A fresh run starts
    from new weights or from ``plan.source``'s policy weights (the optimizer starts afresh),
    with behaviour cloning first when the config asks for it. A resumed run continues from
    ``plan.checkpoint`` on the same TensorBoard curves; SAC and TQC continue with the replay
    buffer saved beside it, and without one (``checkpoint.replay_buffer: false``) they start
    with an empty buffer and collect ``learning_starts`` fresh steps before training again, and
    the console says so."""
    cfg = plan.cfg
    venv = _vec_env(cfg, plan.robots)
    if plan.checkpoint is None:
        model = _new_model(cfg, venv)
        if plan.source is not None:
            model.policy.load_state_dict(load_model(plan.source).policy.state_dict())
        _log_to(model, run)
        if cfg.demonstrations.enabled:
            _pretrain(model, plan, run)
    else:
        step, path = plan.checkpoint
        model = algo_class(cfg.algo.name).load(path, env=venv, device="cpu")
        if isinstance(model, OffPolicyAlgorithm):
            line = restore_buffer(
                model, run, step, cfg.checkpoint.replay_buffer, cfg.algo.learning_starts
            )
            print(line, file=sys.stderr)
        _log_to(model, run)
    _learn(model, plan, run, reset=plan.checkpoint is None)


def load_model(run: RunDir) -> BaseAlgorithm:
    """The run's final model, or its newest checkpoint when training did not finish."""
    return algo_class(run.config().algo.name).load(newest_model(run), device="cpu")


def load_policy(run: RunDir) -> Policy:
    """Deterministic actions from the run's model, for a batch of observations."""
    model = load_model(run)
    return lambda obs: model.predict(obs, deterministic=True)[0]
