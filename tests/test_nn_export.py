"""Exporting a DeepWe policy for one robot: same actions, no hypernetwork, plain checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deepwe_rl.nn import (
    ExportedPolicy,
    NetworkConfig,
    build_actor,
    build_actor_critic,
    export_policy,
)
from deepwe_rl.nn.synthetic import observation_batch, random_robot, repad

pytestmark = pytest.mark.usefixtures("one_thread")


CASES = {
    "actor": (NetworkConfig(), lambda cfg: build_actor(cfg, 8)),
    "shared": (NetworkConfig(), lambda cfg: build_actor_critic(cfg, 8, share_encoder=True)),
    "separate": (NetworkConfig(layers=3), lambda cfg: build_actor_critic(cfg, 8)),
    "depth": (NetworkConfig(use_depth=True, layers=1), lambda cfg: build_actor_critic(cfg, 8)),
    "jacobian": (NetworkConfig(readout="jacobian"), lambda cfg: build_actor_critic(cfg, 8)),
    "tilt": (NetworkConfig(readout="jacobian_tilt"), lambda cfg: build_actor_critic(cfg, 8)),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("gripper", [True, False])
def test_export_matches_and_round_trips(case: str, gripper: bool, tmp_path: Path) -> None:
    cfg, build = CASES[case]
    rng = np.random.default_rng(0)
    robot = random_robot(6, rng, has_gripper=gripper)
    obs = observation_batch([robot] * 5, 8, rng, missing=("object",), depth=cfg.use_depth)
    module = build(cfg)
    exported = export_policy(module, obs)
    path = tmp_path / "policy.pt"
    exported.save(path)
    torch.load(path, weights_only=True)
    loaded = ExportedPolicy.load(path)

    names = [name for name, _ in loaded.named_modules()]
    assert not any("generator" in n or "morphology" in n for n in names)
    for padding in (8, 11):
        padded = repad(obs, padding)
        full = module(padded)
        for policy in (exported, loaded):
            with torch.no_grad():
                mean = policy(padded)
            torch.testing.assert_close(mean, full.mean, atol=1e-5, rtol=0)
            if hasattr(full, "value"):
                assert policy.has_value
                with torch.no_grad():
                    value = policy.value(padded)
                torch.testing.assert_close(value, full.value, atol=1e-5, rtol=0)
            else:
                assert not policy.has_value


def test_export_rejects_what_it_cannot_freeze() -> None:
    obs = observation_batch(
        [random_robot(3, np.random.default_rng(0))], 8, np.random.default_rng(1)
    )
    for cfg in (
        NetworkConfig(kind="mlp"),
        NetworkConfig(kind="transformer"),
        NetworkConfig(trunk="attention"),
    ):
        with pytest.raises(TypeError):
            export_policy(build_actor(cfg, 8), obs)
