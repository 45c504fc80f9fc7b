"""Gradients reach every part of the DeepWe networks, and the generated-weight cache is exact
and never stale."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from deepwe_rl.nn import NetworkConfig, build_actor, build_actor_critic, build_q_critic
from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.synthetic import observation_batch, random_action, random_robot

pytestmark = pytest.mark.usefixtures("one_thread")


def mixed_obs(seed: int = 0, batch: int = 12) -> dict:
    rng = np.random.default_rng(seed)
    robots = [random_robot(n, rng, has_gripper=n % 2 == 0) for n in (2, 3, 5, 7)]
    return observation_batch([robots[i % 4] for i in range(batch)], 8, rng)


def single_obs(seed: int = 0, batch: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    return observation_batch([random_robot(5, rng)] * batch, 8, rng)


def assert_all_parts_learn(net: DeepWeNet) -> None:
    parts = {
        "descriptor encoder": net.morphology.joint,
        "robot embedding": net.morphology.robot,
        "hypernetwork": net.generator,
        "stems": net.stems,
        "trunk": net.trunk,
    }
    for name, module in parts.items():
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads), name
        assert all(g.abs().sum() > 0 for g in grads if g is not None), name


@pytest.mark.parametrize("trunk", ["film", "attention"])
def test_gradients_reach_hypernetwork_stems_and_trunk(trunk: str) -> None:
    cfg = NetworkConfig(trunk=trunk)
    obs = mixed_obs()
    ac = build_actor_critic(cfg, 8)
    out = ac(obs)
    (out.mean.pow(2).sum() + out.log_std.sum() + out.value.sum()).backward()
    assert isinstance(ac.net, DeepWeNet) and isinstance(ac.value_net, DeepWeNet)
    assert_all_parts_learn(ac.net)
    assert_all_parts_learn(ac.value_net)

    q = build_q_critic(cfg, 8)
    q(obs, random_action(obs, np.random.default_rng(1))).sum().backward()
    assert isinstance(q.net, DeepWeNet)
    assert_all_parts_learn(q.net)


@pytest.mark.parametrize("obs_maker", [single_obs, mixed_obs], ids=["single", "mixed"])
def test_cached_calls_hit_and_equal_uncached(obs_maker: Callable[[], dict]) -> None:
    obs = obs_maker()
    actor = build_actor(NetworkConfig(), 8)
    assert isinstance(actor.net, DeepWeNet) and actor.net.cache is not None
    cache = actor.net.cache
    fresh = actor(obs)
    with torch.no_grad():
        first = actor(obs)
        misses = cache.misses
        second = actor(obs)
    assert cache.misses == misses and cache.hits > 0
    for a, b, c in zip(fresh, first, second, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
        assert torch.equal(b, c)


@pytest.mark.parametrize("obs_maker", [single_obs, mixed_obs], ids=["single", "mixed"])
def test_optimizer_step_invalidates_cache(obs_maker: Callable[[], dict]) -> None:
    obs = obs_maker()
    ac = build_actor_critic(NetworkConfig(), 8, share_encoder=True)
    with torch.no_grad():
        before = ac(obs)
    optimizer = torch.optim.Adam(ac.parameters(), lr=1e-3)
    out = ac(obs)
    (out.mean.sum() + out.value.sum()).backward()
    optimizer.step()
    assert isinstance(ac.net, DeepWeNet) and ac.net.cache is not None
    misses = ac.net.cache.misses
    with torch.no_grad():
        after = ac(obs)
    assert ac.net.cache.misses > misses
    fresh = ac(obs)
    assert not torch.allclose(before.mean, after.mean)
    for a, b in zip(after, fresh, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_load_state_dict_invalidates_cache() -> None:
    obs = single_obs()
    torch.manual_seed(0)
    actor = build_actor(NetworkConfig(), 8)
    other = build_actor(NetworkConfig(), 8)
    with torch.no_grad():
        actor(obs)
        actor.load_state_dict(other.state_dict())
        torch.testing.assert_close(actor(obs).mean, other(obs).mean, atol=1e-6, rtol=0)


def test_q_critic_does_not_cache() -> None:
    q = build_q_critic(NetworkConfig(), 8)
    assert isinstance(q.net, DeepWeNet) and q.net.cache is None
