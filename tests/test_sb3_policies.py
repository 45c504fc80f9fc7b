"""SB3 policies: the masked Gaussian, HER with mixed robots, seeding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO, SAC, HerReplayBuffer
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from deepwe_rl.agents.sb3.distributions import MaskedGaussian, MaskedSquashedGaussian
from deepwe_rl.agents.sb3.policies import DeepWePPOPolicy, DeepWeSACPolicy
from deepwe_rl.envs.vector import env_fns

MASK = torch.tensor([[1.0, 1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0, 0.0]])


def _dist(cls: type[MaskedGaussian]) -> MaskedGaussian:
    torch.manual_seed(0)
    return cls(torch.randn(2, 5), torch.randn(2, 5) * 0.3, MASK)


@pytest.mark.parametrize("cls", [MaskedGaussian, MaskedSquashedGaussian])
def test_padded_slots_add_nothing(cls: type[MaskedGaussian]) -> None:
    dist = _dist(cls)
    actions = torch.rand(2, 5) * 1.8 - 0.9
    changed = torch.where(MASK > 0.5, actions, torch.full_like(actions, 0.77))
    assert torch.allclose(dist.log_prob(actions), dist.log_prob(changed))
    # Log-probability and entropy equal those of a Gaussian over the real slots alone.
    real = MASK[0] > 0.5
    alone = torch.distributions.Normal(dist.mean[0, real], dist.log_std[0, real].exp())
    assert torch.allclose(dist.log_prob(actions)[0], alone.log_prob(actions[0, real]).sum())
    assert torch.allclose(dist.entropy()[0], alone.entropy().sum())


def test_samples_are_zero_in_padded_slots() -> None:
    for dist in (_dist(MaskedGaussian), _dist(MaskedSquashedGaussian)):
        sample = dist.sample() if type(dist) is MaskedGaussian else dist.sample_and_log_prob()[0]
        assert torch.all(sample[MASK < 0.5] == 0.0) and torch.all(dist.mode()[MASK < 0.5] == 0.0)


def test_squashed_log_prob_matches_change_of_variables() -> None:
    dist = _dist(MaskedSquashedGaussian)
    torch.manual_seed(1)
    action, log_prob = dist.sample_and_log_prob()
    pre = torch.atanh(action.clamp(-0.999999, 0.999999))
    gauss = MaskedGaussian(dist.mean, dist.log_std, MASK).log_prob(pre)
    jac = torch.where(MASK > 0.5, torch.log(1 - action**2 + 1e-6), 0.0).sum(1)
    assert torch.allclose(log_prob, gauss - jac, atol=1e-3)


def _venv(reward: str = "dense") -> VecMonitor:
    return VecMonitor(DummyVecEnv(env_fns("reach", ["panda", "proc:2:0"], reward=reward)))


def test_same_seed_same_weights_and_training() -> None:
    def trained() -> dict[str, torch.Tensor]:
        model = PPO(
            DeepWePPOPolicy,
            _venv(),
            n_steps=32,
            batch_size=32,
            n_epochs=1,
            seed=3,
            device="cpu",
            policy_kwargs={"network": {"hidden": 32}},
        )
        model.learn(64)
        return model.policy.state_dict()

    a, b = trained(), trained()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_sac_her_trains_on_mixed_robots() -> None:
    model = SAC(
        DeepWeSACPolicy,
        _venv("sparse"),
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs={"n_sampled_goal": 4, "goal_selection_strategy": "future"},
        learning_starts=100,
        batch_size=64,
        seed=0,
        device="cpu",
        policy_kwargs={"network": {"hidden": 64}},
    )
    model.learn(300)
    assert model.num_timesteps == 300 and model.replay_buffer.size() > 0
    obs = model.env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert np.all(np.abs(actions) <= 1.0) and np.all(actions[1, 2:] == 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["deepwe", "mlp"])
def test_tqc_trains_and_reloads(kind: str, tmp_path: Path) -> None:
    tqc = pytest.importorskip("sb3_contrib").TQC
    from deepwe_rl.agents.sb3.tqc_policy import DeepWeTQCPolicy

    model = tqc(
        DeepWeTQCPolicy,
        _venv(),
        learning_starts=100,
        batch_size=64,
        seed=0,
        device="cpu",
        policy_kwargs={"network": {"kind": kind, "hidden": 32}, "n_quantiles": 7},
    )
    obs = model.env.reset()
    quantiles = model.critic(*_as_tensors(model, obs))
    assert quantiles.shape == (2, 2, 7)
    model.learn(200)
    assert model.num_timesteps == 200 and model.logger.name_to_value["train/critic_loss"] > 0
    model.save(tmp_path / "tqc.zip")
    loaded = tqc.load(tmp_path / "tqc.zip", device="cpu")
    np.testing.assert_allclose(
        loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0]
    )


def _as_tensors(
    model: BaseAlgorithm, obs: dict[str, np.ndarray]
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    actions = np.stack([model.action_space.sample() for _ in range(len(obs["joint_mask"]))])
    return model.policy.obs_to_tensor(obs)[0], torch.as_tensor(actions)
