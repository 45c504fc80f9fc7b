"""Padding, masking and batching invariances of every network kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepwe_rl.morphology import STREAM_INDEX
from deepwe_rl.nn import NetworkConfig, build_actor, build_actor_critic, build_q_critic
from deepwe_rl.nn.synthetic import observation_batch, random_action, random_robot, repad

TOL = 1e-5
VARIANTS = {
    "deepwe": NetworkConfig(),
    "deepwe-attention": NetworkConfig(trunk="attention"),
    "transformer": NetworkConfig(kind="transformer"),
    "mlp": NetworkConfig(kind="mlp"),
    "deepwe-jacobian": NetworkConfig(readout="jacobian"),
    "transformer-jacobian": NetworkConfig(kind="transformer", readout="jacobian"),
    "mlp-jacobian": NetworkConfig(kind="mlp", readout="jacobian"),
    "deepwe-jacobian-tilt": NetworkConfig(readout="jacobian_tilt"),
}
JOINT_FREE = [
    "deepwe",
    "deepwe-attention",
    "transformer",
    "deepwe-jacobian",
    "deepwe-jacobian-tilt",
]


pytestmark = pytest.mark.usefixtures("one_thread")


def outputs(cfg: NetworkConfig, obs: dict, action: torch.Tensor, seed: int = 0) -> dict:
    """Mean, log-std, value and Q of freshly seeded networks, with gradients enabled (no cache)."""
    joints = obs["joint_mask"].shape[1]
    torch.manual_seed(seed)
    ac = build_actor_critic(cfg, joints)
    torch.manual_seed(seed)
    q = build_q_critic(cfg, joints)
    out = ac(obs)
    return {"mean": out.mean, "log_std": out.log_std, "value": out.value, "q": q(obs, action)}


def assert_close(a: dict, b: dict) -> None:
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=TOL, rtol=0, msg=key)


def robots(rng: np.random.Generator) -> list:
    return [
        random_robot(2, rng),
        random_robot(4, rng, has_gripper=False),
        random_robot(6, rng),
        random_robot(7, rng, has_gripper=False),
    ]


@pytest.mark.parametrize("variant", JOINT_FREE)
def test_same_robot_at_any_padding(variant: str) -> None:
    rng = np.random.default_rng(1)
    obs8 = observation_batch(robots(rng) * 2, 8, rng)
    action8 = random_action(obs8, rng)
    obs12 = repad(obs8, 12)
    action12 = torch.cat([action8[:, :8], torch.zeros(8, 4), action8[:, 8:]], dim=1)
    a, b = outputs(VARIANTS[variant], obs8, action8), outputs(VARIANTS[variant], obs12, action12)
    for key in ("mean", "log_std"):
        torch.testing.assert_close(a[key][:, :8], b[key][:, :8], atol=TOL, rtol=0)
        torch.testing.assert_close(a[key][:, 8], b[key][:, 12], atol=TOL, rtol=0)
        assert torch.all(b[key][:, 8:12] == 0)
    for key in ("value", "q"):
        torch.testing.assert_close(a[key], b[key], atol=TOL, rtol=0)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("garbage", [1e30, float("nan")])
def test_padding_and_masked_streams_are_ignored(variant: str, garbage: float) -> None:
    rng = np.random.default_rng(2)
    obs = observation_batch(robots(rng), 8, rng, missing=("object",))
    action = random_action(obs, rng)
    clean = outputs(VARIANTS[variant], obs, action)

    dirty = {k: v.clone() for k, v in obs.items()}
    padded = dirty["joint_mask"] == 0
    dirty["joint_state"][padded] = garbage
    dirty["joint_desc"][padded] = garbage
    dirty["object"][:] = garbage
    no_gripper = dirty["stream_mask"][:, STREAM_INDEX["gripper"]] == 0
    dirty["gripper"][no_gripper] = garbage
    dirty_action = action.clone()
    dirty_action[:, :8][padded] = garbage
    dirty_action[no_gripper, -1] = garbage
    assert_close(clean, outputs(VARIANTS[variant], dirty, dirty_action))


@pytest.mark.parametrize("variant", ["deepwe", "deepwe-attention", "deepwe-jacobian"])
@pytest.mark.parametrize("grad", [True, False])
def test_mixed_batch_matches_each_sample_alone(variant: str, grad: bool) -> None:
    rng = np.random.default_rng(3)
    batch = [robots(rng)[i % 4] for i in range(11)]
    obs = observation_batch(batch, 8, rng)
    action = random_action(obs, rng)
    torch.manual_seed(0)
    ac, actor, q = (
        build(VARIANTS[variant], 8) for build in (build_actor_critic, build_actor, build_q_critic)
    )
    with torch.set_grad_enabled(grad):
        together = (ac(obs), actor(obs), q(obs, action))
        for i in range(len(batch)):
            one = {k: v[i : i + 1] for k, v in obs.items()}
            alone = (ac(one), actor(one), q(one, action[i : i + 1]))
            for joint, single in zip(together[:2], alone[:2], strict=True):
                for field, value in zip(joint, single, strict=True):
                    torch.testing.assert_close(field[i : i + 1], value, atol=TOL, rtol=0)
            torch.testing.assert_close(together[2][i : i + 1], alone[2], atol=TOL, rtol=0)


@pytest.mark.parametrize("variant", ["deepwe", "deepwe-attention", "transformer"])
def test_trained_on_some_joint_counts_runs_on_others(variant: str) -> None:
    rng = np.random.default_rng(4)
    cfg = VARIANTS[variant]
    torch.manual_seed(0)
    actor = build_actor(cfg, 8)
    optimizer = torch.optim.Adam(actor.parameters(), lr=1e-3)
    train = observation_batch([random_robot(n, rng) for n in (3, 5, 7) for _ in range(4)], 8, rng)
    for _ in range(3):
        out = actor(train)
        loss = (out.mean - 0.5 * out.mask).pow(2).mean() + out.log_std.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for n in (2, 4, 6, 8):
        obs = observation_batch([random_robot(n, rng, has_gripper=n != 4)], 8, rng)
        out = actor(obs)
        expected = torch.tensor([[1.0] * n + [0.0] * (8 - n) + [float(n != 4)]])
        assert torch.equal(out.mask, expected)
        assert torch.isfinite(out.mean).all() and torch.isfinite(out.log_std).all()
        assert torch.all(out.mean[expected == 0] == 0)
        assert torch.all(out.mean[expected == 1] != 0)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_same_seed_same_weights(variant: str) -> None:
    def weights(seed: int) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        modules = (
            build_actor_critic(VARIANTS[variant], 8),
            build_actor(VARIANTS[variant], 8),
            build_q_critic(VARIANTS[variant], 8),
        )
        return [t for m in modules for t in m.state_dict().values()]

    first, again, other = weights(7), weights(7), weights(8)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_output_shapes_and_log_std_bounds(variant: str) -> None:
    rng = np.random.default_rng(5)
    obs = observation_batch(robots(rng), 8, rng)
    out = outputs(VARIANTS[variant], obs, random_action(obs, rng))
    assert out["mean"].shape == out["log_std"].shape == (4, 9)
    assert out["value"].shape == out["q"].shape == (4,)
    cfg = VARIANTS[variant]
    assert out["log_std"].min() >= cfg.log_std_min and out["log_std"].max() <= cfg.log_std_max
