"""Starting, resuming and loading runs, whichever backend the config names.

Everything that can be wrong with a config is found before the run directory is created, so a
bad config never leaves a run behind.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from types import ModuleType

import torch
from deepwe_rl.agents import ray_cluster
from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.evaluation import Policy
from deepwe_rl.agents.failures import logged_to
from deepwe_rl.agents.init_from import source_run
from deepwe_rl.agents.robots import resolve_robots
from deepwe_rl.agents.run_dir import RunDir, create_run_dir
from deepwe_rl.agents.tb_layout import write_layout

from deepwe_rl.config import ConfigError, RunConfig

SUPPORTED = {"sb3": ("ppo", "sac", "tqc"), "rllib": ("ppo",)}


def _backend(name: str) -> ModuleType:
    """The backend's train module, imported only when used (RLlib pulls in Ray)."""
    if name == "sb3":
        from deepwe_rl.agents.sb3 import train as sb3_train

        return sb3_train
    from deepwe_rl.agents.rllib import train as rllib_train

    return rllib_train


def check_run_config(cfg: RunConfig) -> list[str]:
    """Resolve the training robots and build one env per robot once, so that robots that cannot
    do the task, or URDFs that do not load, stop the run before anything is written."""
    if cfg.algo.name not in SUPPORTED[cfg.backend]:
        allowed = ", ".join(SUPPORTED[cfg.backend])
        raise ConfigError(
            f"config error: algo.name: the {cfg.backend} backend supports {allowed}, "
            f"not {cfg.algo.name}"
        )
    if cfg.backend == "rllib":
        from deepwe_rl.agents.rllib.algorithm import check_config

        check_config(cfg)
    ray_cluster.check_config(cfg)
    source_run(cfg)
    robots = resolve_robots(cfg.env.robots)
    eval_robots = resolve_robots(cfg.eval.robots, "eval.robots") if cfg.eval.robots else []
    for robot in dict.fromkeys(robots + eval_robots):
        try:
            single_env(cfg.env, robot).close()
        except (ValueError, FileNotFoundError) as err:
            raise ConfigError(f"config error: env: {err}") from None
    return robots


def _ray_for(cfg: RunConfig) -> AbstractContextManager[None]:
    """Ray for a run that uses it, started (or joined) before the run directory exists, so
    that a cluster that cannot fit the run stops it first."""
    return ray_cluster.run_session(cfg) if ray_cluster.uses_ray(cfg) else nullcontext()


def start(cfg: RunConfig) -> RunDir:
    """Check the config (and the Ray cluster's CPUs), create the run directory, and train. An
    unexpected error once the run directory exists goes to its ``error.log`` (RunFailed)."""
    robots = check_run_config(cfg)
    torch.set_num_threads(cfg.torch_threads)
    with _ray_for(cfg):
        run = create_run_dir(cfg)
        with logged_to(run, f"training {run.path}"):
            write_layout(run.tb)
            _backend(cfg.backend).train(cfg, run, robots)
    return run


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def resume(run: RunDir) -> None:
    """Continue ``run`` from its newest checkpoint, or from step 0 when it was stopped before
    its first one, after tidying what an interrupted save left behind. An unexpected error goes
    to the run's ``error.log`` (RunFailed), and the run stays resumable."""
    cfg = run.config()
    torch.set_num_threads(cfg.torch_threads)
    with logged_to(run, f"resuming {run.path}"):
        for line in run.recover_interrupted_saves():
            _say(line)
        latest = run.latest_checkpoint()
        if latest is None and run.finished:
            raise ConfigError(
                f"{run.path} finished and has no checkpoint to continue from; to train it "
                f"further, start a new run with init_from={run.path}"
            )
        with _ray_for(cfg):
            if latest is None:
                _say(f"no checkpoint in {run.checkpoints} yet: training from step 0")
                _backend(cfg.backend).train(cfg, run, resolve_robots(cfg.env.robots))
            else:
                _say(f"resuming from {latest[1]} (step {latest[0]})")
                _backend(cfg.backend).resume(run)


def load_policy(run: RunDir) -> Policy:
    return _backend(run.config().backend).load_policy(run)
