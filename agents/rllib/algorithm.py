"""RLlib PPO configured from a RunConfig, with its Tune log dir kept in the run directory."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
from ray.rllib.algorithms.ppo import PPO, PPOConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from deepwe_rl.agents import ray_logging
from deepwe_rl.agents.rllib.checkpoints import ray_path
from deepwe_rl.agents.rllib.episodes import record_episode
from deepwe_rl.agents.rllib.faults import RESTART_DELAY_S
from deepwe_rl.agents.rllib.mixed_robot_env import MixedRobotEnv, env_config
from deepwe_rl.agents.rllib.module import ActorCriticModule, module_config
from deepwe_rl.config import ConfigError, RunConfig


class RunPPOConfig(PPOConfig):
    """``PPOConfig`` plus ``run_dir``, the run directory that ``RunPPO`` logs into."""

    def __init__(self, algo_class: type[PPO] | None = None) -> None:
        super().__init__(algo_class=algo_class or RunPPO)
        self.run_dir: str | None = None


class RunPPO(PPO):
    """PPO whose Ray Tune log dir is the run directory.

    A plain ``Algorithm`` (a Tune ``Trainable``) makes a fresh folder under ``~/ray_results``
    whenever it is built, restored from a checkpoint included; this one points its log dir at
    ``config.run_dir`` instead and creates nothing.
    """

    @classmethod
    def get_default_config(cls) -> RunPPOConfig:
        return RunPPOConfig()

    def _setup_logdir(self) -> None:
        if self.config.run_dir is None:
            raise ValueError("RunPPO needs config.run_dir, the run directory to log into")
        self._logdir = self.config.run_dir


def sub_envs(cfg: RunConfig) -> int:
    """Sub-envs that sample in parallel: the driver's when there are no env runners."""
    return max(cfg.ray.num_env_runners, 1) * cfg.ray.envs_per_runner


def check_config(cfg: RunConfig) -> None:
    """Reject what this backend cannot run besides its algorithm (``agents.training`` checks
    that), before Ray starts."""
    if cfg.env.control != "joints":
        raise ConfigError(
            "config error: env.control: the rllib backend supports joints only "
            "(its policy emits one command per joint slot)"
        )
    if cfg.demonstrations.enabled:
        raise ConfigError(
            "config error: demonstrations.episodes: behaviour cloning runs on the sb3 backend only"
        )
    batch = cfg.algo.n_steps * sub_envs(cfg)
    if cfg.algo.batch_size > batch:
        raise ConfigError(
            f"config error: algo.batch_size: {cfg.algo.batch_size} exceeds the rollout batch "
            f"algo.n_steps x sub-envs = {batch}"
        )


def build_config(cfg: RunConfig, run_dir: Path, robots: list[str]) -> RunPPOConfig:
    """The PPO config of a run: cfg.algo's hyperparameters, cfg.ray's env runners with
    ``envs_per_runner`` mixed-robot sub-envs each (a failed runner is restarted, up to
    ``ray.max_restarts`` times), the deepwe_rl module, the episode callback. RLlib logs at the
    level ``ray_logging`` sets, and its system monitor (CPU and GPU use in each result, which
    the run does not log) is off.

    One PPO iteration samples ``n_steps`` from every sub-env. The KL penalty is off, as in
    SB3's PPO; the clipped objective alone limits the update.
    """
    config = RunPPOConfig()
    config.run_dir = ray_path(run_dir)
    return (
        config.framework("torch")
        .environment(
            MixedRobotEnv,
            env_config=env_config(cfg.env, robots, cfg.ray.envs_per_runner),
            normalize_actions=False,
            clip_actions=True,
        )
        .env_runners(
            num_env_runners=cfg.ray.num_env_runners,
            num_envs_per_env_runner=cfg.ray.envs_per_runner,
            rollout_fragment_length=cfg.algo.n_steps,
            gym_env_vectorize_mode=gym.VectorizeMode.SYNC,
        )
        .fault_tolerance(
            restart_failed_env_runners=cfg.ray.max_restarts > 0,
            max_num_env_runner_restarts=cfg.ray.max_restarts,
            delay_between_env_runner_restarts_s=RESTART_DELAY_S,
        )
        .learners(num_learners=0)
        .rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=ActorCriticModule, model_config=module_config(cfg)
            )
        )
        .training(
            lr=cfg.algo.learning_rate,
            gamma=cfg.algo.gamma,
            lambda_=cfg.algo.gae_lambda,
            clip_param=cfg.algo.clip_range,
            entropy_coeff=cfg.algo.ent_coef,
            vf_loss_coeff=cfg.algo.vf_coef,
            grad_clip=cfg.algo.max_grad_norm,
            num_epochs=cfg.algo.n_epochs,
            minibatch_size=cfg.algo.batch_size,
            train_batch_size_per_learner=cfg.algo.n_steps * sub_envs(cfg),
            use_kl_loss=False,
        )
        .callbacks(on_episode_end=record_episode)
        .debugging(seed=cfg.seed, log_level=ray_logging.rllib_log_level(), log_sys_usage=False)
    )
