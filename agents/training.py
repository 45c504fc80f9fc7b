"""Starting, resuming and loading runs, whichever backend the config names: the one
orchestrator.

Everything that can be wrong with a config is found here, before the run directory is created,
so a bad config never leaves a run behind. The result is a ``RunPlan`` (robots, eval robots,
``init_from`` source, checkpoint to resume, Ray or not); Ray is opened here once, around the
backend, which takes the plan as it is.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from types import ModuleType
from typing import get_args

import torch

from deepwe_rl.agents import ray_cluster
from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.evaluation import Policy
from deepwe_rl.agents.failures import logged_to
from deepwe_rl.agents.init_from import source_run
from deepwe_rl.agents.robots import resolve_robots
from deepwe_rl.agents.run_dir import RunDir, create_run_dir
from deepwe_rl.agents.run_plan import RunPlan
from deepwe_rl.agents.tb_layout import write_layout
from deepwe_rl.config import AlgoName, ConfigError, RunConfig

SUPPORTED: dict[str, tuple[AlgoName, ...]] = {"sb3": get_args(AlgoName), "rllib": ("ppo",)}
"""The algorithms each backend runs: the one place this is checked."""


def _backend(name: str) -> ModuleType:
    """The backend's train module, imported only when used (RLlib pulls in Ray)."""
    if name == "sb3":
        from deepwe_rl.agents.sb3 import train as sb3_train

        return sb3_train
    from deepwe_rl.agents.rllib import train as rllib_train

    return rllib_train


def _check_algorithm(cfg: RunConfig) -> None:
    allowed = SUPPORTED[cfg.backend]
    if cfg.algo.name not in allowed:
        raise ConfigError(
            f"config error: algo.name: the {cfg.backend} backend supports "
            f"{', '.join(allowed)} only, not {cfg.algo.name}"
        )


def _check_backend(cfg: RunConfig) -> None:
    """What only the backend knows it cannot run (RLlib: its control, batch and BC limits; SB3:
    TQC without sb3-contrib)."""
    if cfg.backend == "rllib":
        from deepwe_rl.agents.rllib.algorithm import check_config

        check_config(cfg)
    else:
        from deepwe_rl.agents.sb3.train import algo_class

        algo_class(cfg.algo.name)


def _robots(cfg: RunConfig) -> tuple[list[str], list[str]]:
    """The training robots and the eval robots (the training robots unless ``eval.robots``)."""
    robots = resolve_robots(cfg.env.robots)
    eval_robots = resolve_robots(cfg.eval.robots, "eval.robots") if cfg.eval.robots else robots
    return robots, eval_robots


def check_run_config(cfg: RunConfig) -> RunPlan:
    """Check ``cfg`` and plan its run: the algorithm and backend limits, the Ray CPUs an
    embedded Ray would get, the ``init_from`` source, and one env per robot built once, so that
    robots that cannot do the task, or URDFs that do not load, stop the run before anything is
    written."""
    _check_algorithm(cfg)
    _check_backend(cfg)
    ray_cluster.check_config(cfg)
    source = source_run(cfg)
    robots, eval_robots = _robots(cfg)
    for robot in dict.fromkeys(robots + eval_robots):
        try:
            single_env(cfg.env, robot).close()
        except (ValueError, FileNotFoundError) as err:
            raise ConfigError(f"config error: env: {err}") from None
    return RunPlan(cfg, robots, eval_robots, source, None, ray_cluster.uses_ray(cfg))


def _ray_for(plan: RunPlan) -> AbstractContextManager[None]:
    """Ray for a run that uses it, started (or joined) before the run directory exists, so
    that a cluster that cannot fit the run stops it first. The only place a run opens Ray."""
    return ray_cluster.run_session(plan.cfg) if plan.uses_ray else nullcontext()


def start(cfg: RunConfig) -> RunDir:
    """Check the config (and the Ray cluster's CPUs), create the run directory, and train. An
    unexpected error once the run directory exists goes to its ``error.log`` (RunFailed)."""
    plan = check_run_config(cfg)
    torch.set_num_threads(cfg.torch_threads)
    with _ray_for(plan):
        run = create_run_dir(cfg)
        with logged_to(run, f"training {run.path}"):
            write_layout(run.tb)
            _backend(cfg.backend).train(plan, run)
    return run


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def resume_plan(run: RunDir) -> RunPlan:
    """The plan that continues ``run``: from its newest checkpoint, or from step 0 (with its
    ``init_from`` weights) when it was stopped before its first one."""
    cfg = run.config()
    latest = run.latest_checkpoint()
    if latest is None and run.finished:
        raise ConfigError(
            f"{run.path} finished and has no checkpoint to continue from; to train it "
            f"further, start a new run with init_from={run.path}"
        )
    robots, eval_robots = _robots(cfg)
    source = source_run(cfg) if latest is None else None
    return RunPlan(cfg, robots, eval_robots, source, latest, ray_cluster.uses_ray(cfg))


def resume(run: RunDir) -> None:
    """Continue ``run`` from its newest checkpoint, or from step 0 when it was stopped before
    its first one, after tidying what an interrupted save left behind. An unexpected error goes
    to the run's ``error.log`` (RunFailed), and the run stays resumable."""
    cfg = run.config()
    torch.set_num_threads(cfg.torch_threads)
    with logged_to(run, f"resuming {run.path}"):
        for line in run.recover_interrupted_saves():
            _say(line)
        plan = resume_plan(run)
        with _ray_for(plan):
            if plan.checkpoint is None:
                _say(f"no checkpoint in {run.checkpoints} yet: training from step 0")
            else:
                _say(f"resuming from {plan.checkpoint[1]} (step {plan.checkpoint[0]})")
            _backend(cfg.backend).train(plan, run)


def load_policy(run: RunDir) -> Policy:
    return _backend(run.config().backend).load_policy(run)
