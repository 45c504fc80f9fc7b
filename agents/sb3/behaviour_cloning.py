"""Behaviour cloning before RL: fit an SB3 policy to the scripted expert, optionally with DAgger.

The policy's deterministic action (the masked Gaussian's mode, squashed for SAC and TQC) is
regressed onto the expert's action over the slots the robot has. PPO's value head is regressed
onto the driver's return-to-go at the same time, so the first PPO updates start from a critic
that knows what the demonstrated behaviour earns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.utils import obs_as_tensor

from deepwe_rl.agents.demonstrations import Demonstrations, collect
from deepwe_rl.agents.env_factory import training_env_fns
from deepwe_rl.config import RunConfig
from deepwe_rl.nn.observation import action_mask


@dataclass(frozen=True)
class Round:
    """One round of collecting and fitting: who drove, how it went, the loss after fitting."""

    driver: str
    episodes: int
    success_rate: float
    dataset_size: int
    env_steps: int
    action_loss: float
    value_loss: float


def _fit(model: BaseAlgorithm, data: Demonstrations, cfg: RunConfig) -> tuple[float, float]:
    """``demonstrations.epochs`` passes of Adam over ``data``; the last epoch's mean losses."""
    d, policy = cfg.demonstrations, model.policy
    fits_value = isinstance(model, PPO)
    optimizer = torch.optim.Adam(policy.parameters(), lr=d.learning_rate)
    rng = np.random.default_rng(cfg.seed)
    action_losses: list[float] = []
    value_losses: list[float] = []
    policy.set_training_mode(True)
    for _ in range(d.epochs):
        action_losses.clear()
        value_losses.clear()
        order = rng.permutation(len(data))
        for start in range(0, len(order), d.batch_size):
            rows = order[start : start + d.batch_size]
            obs = obs_as_tensor({k: v[rows] for k, v in data.observations.items()}, policy.device)
            target = torch.as_tensor(data.actions[rows], device=policy.device)
            real = action_mask(obs)
            error = (policy._predict(obs, True) - target) ** 2
            action_loss = (error * real).sum() / real.sum()
            loss = action_loss
            if fits_value:
                returns = torch.as_tensor(data.returns[rows], device=policy.device)
                value_loss = torch.nn.functional.mse_loss(policy.predict_values(obs)[:, 0], returns)
                loss = loss + cfg.algo.vf_coef * value_loss
                value_losses.append(value_loss.item())
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.algo.max_grad_norm)
            optimizer.step()
            action_losses.append(action_loss.item())
    policy.set_training_mode(False)
    return float(np.mean(action_losses)), float(np.mean(value_losses)) if value_losses else 0.0


def pretrain(
    model: BaseAlgorithm,
    cfg: RunConfig,
    robots: list[str],
    rehearsal: Demonstrations | None = None,
    save_to: Path | None = None,
) -> Iterator[Round]:
    """Expert-driven episodes (if any), then ``dagger_rounds`` rounds driven by the policy and
    labelled by the expert, fitting the policy to everything so far after each, and to
    ``rehearsal`` (steps of other arms' demonstrations) beside it; yields a ``Round`` as each
    one ends. The last fit's data is saved to ``save_to``."""
    d = cfg.demonstrations
    act = lambda obs: model.predict(obs, deterministic=True)[0]  # noqa: E731
    envs = [fn() for fn in training_env_fns(cfg.env, robots)]
    try:
        data: Demonstrations | None = None
        for k in range(int(d.episodes == 0), d.dagger_rounds + 1):
            if k == 0:
                driver, latest = "expert", collect(envs, d.episodes, cfg.seed, cfg.algo.gamma)
            else:
                seed = cfg.seed + d.episodes + (k - 1) * d.dagger_episodes
                driver, latest = (
                    "policy",
                    collect(envs, d.dagger_episodes, seed, cfg.algo.gamma, act),
                )
            data = latest if data is None else data.extend(latest)
            fitted = data if rehearsal is None else data.extend(rehearsal)
            action_loss, value_loss = _fit(model, fitted, cfg)
            yield Round(
                driver,
                latest.episodes,
                latest.success_rate,
                len(fitted),
                latest.env_steps,
                action_loss,
                value_loss,
            )
    finally:
        for env in envs:
            env.close()
    if save_to is not None:
        fitted.save(save_to)
