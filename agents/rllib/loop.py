"""The RLlib training loop of a run: PPO iterations with TensorBoard logs, periodic
evaluation and checkpoints, and a checkpoint on interrupt."""

from __future__ import annotations

import time

from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME
from torch.utils.tensorboard import SummaryWriter

from deepwe_rl.agents import ray_logging
from deepwe_rl.agents.evaluation import Evaluator, write_eval_json
from deepwe_rl.agents.interrupts import TrainingInterrupted, signals_as_interrupt
from deepwe_rl.agents.metrics import EpisodeWindow, scalars
from deepwe_rl.agents.rllib import checkpoints
from deepwe_rl.agents.rllib.algorithm import build_config
from deepwe_rl.agents.rllib.episodes import finished_episodes
from deepwe_rl.agents.rllib.faults import RunnerWatch
from deepwe_rl.agents.rllib.module import greedy_policy
from deepwe_rl.agents.rllib.tensorboard import losses, write_hparams, write_scalars
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.run_plan import RunPlan
from deepwe_rl.config import RunConfig


def sampled_steps(algo: Algorithm) -> int:
    """Env steps sampled over the algorithm's lifetime (restored with a checkpoint)."""
    return int(algo.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0))


def crossed(previous: int, step: int, freq: int) -> bool:
    """Whether a multiple of ``freq`` lies in (previous, step]; never for ``freq`` 0."""
    return freq > 0 and step // freq > previous // freq


def run_training(plan: RunPlan, run: RunDir) -> None:
    """Train the plan's PPO until ``total_timesteps`` env steps, from scratch (or the plan's
    ``init_from`` weights) or from its checkpoint, in the Ray the orchestrator started. A
    resumed run appends to the same TensorBoard curves, dropping any events logged after the
    checkpoint's step; the hyperparameters are written by the first session."""
    cfg, resumed = plan.cfg, plan.checkpoint is not None
    with signals_as_interrupt():
        with ray_logging.quiet_rllib_build():
            algo = build_config(cfg, run.path, plan.robots).build_algo()
        try:
            if plan.checkpoint is not None:
                checkpoints.restore(algo, plan.checkpoint[1])
            elif plan.source is not None:
                checkpoints.restore_module(algo, plan.source)
            step = sampled_steps(algo)
            writer = SummaryWriter(str(run.tb), purge_step=step + 1 if resumed else None)
            try:
                if not resumed:
                    write_hparams(writer, cfg)
                _fit(algo, cfg, run, plan.eval_robots, step, writer)
            finally:
                writer.close()
        finally:
            algo.stop()


def _fit(
    algo: Algorithm,
    cfg: RunConfig,
    run: RunDir,
    eval_robots: list[str],
    step: int,
    writer: SummaryWriter,
) -> None:
    """Iterate from ``step``; on Ctrl-C or SIGTERM save a checkpoint and raise
    TrainingInterrupted."""
    evaluator = Evaluator(cfg.env, eval_robots) if cfg.eval.freq else None
    window = EpisodeWindow()
    watch = RunnerWatch(algo, writer, step)
    start, started = step, time.perf_counter()
    try:
        while step < cfg.total_timesteps:
            result = algo.train()
            previous, step = step, sampled_steps(algo)
            for episode in finished_episodes(result):
                window.add(episode)
            faults = watch.scalars(result, step)
            if step == previous:  # every env runner was down: nothing sampled, nothing learned
                continue
            values = {**scalars("rollout", window.episodes()), **losses(result), **faults}
            values["time/fps"] = (step - start) / (time.perf_counter() - started)
            write_scalars(writer, values, step)
            if evaluator is not None and crossed(previous, step, cfg.eval.freq):
                episodes = evaluator.run(greedy_policy(algo.get_module()), cfg.eval.episodes)
                write_scalars(writer, scalars("eval", episodes), step)
                write_eval_json(run.eval / f"eval_{step:09d}.json", episodes, step)
            writer.flush()
            if crossed(previous, step, cfg.checkpoint.freq):
                checkpoints.save_step(algo, run, step, cfg.checkpoint.keep)
        checkpoints.save(algo, checkpoints.final_path(run))
    except KeyboardInterrupt:
        step = sampled_steps(algo)
        path = checkpoints.save_step(algo, run, step, cfg.checkpoint.keep)
        raise TrainingInterrupted(step, path) from None
    finally:
        if evaluator is not None:
            evaluator.close()
