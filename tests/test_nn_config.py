"""NetworkConfig validation and the factories' choice of architecture."""

from __future__ import annotations

import pytest
import torch

from deepwe_rl.nn import NetworkConfig, build_actor, build_q_critic
from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.mlp_net import MLPNet
from deepwe_rl.nn.observation import goal_input
from deepwe_rl.nn.transformer_net import TransformerNet


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "cnn"},
        {"trunk": "rnn"},
        {"hidden": 0},
        {"attn_dim": 130, "attn_heads": 4},
        {"log_std_min": 1.0, "log_std_max": 0.0},
    ],
)
def test_invalid_config_is_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        NetworkConfig(**bad)


@pytest.mark.parametrize(
    ("kind", "net_type"), [("deepwe", DeepWeNet), ("mlp", MLPNet), ("transformer", TransformerNet)]
)
def test_kind_selects_architecture(kind: str, net_type: type) -> None:
    cfg = NetworkConfig(kind=kind, hidden=32, attn_dim=32, desc_embed=16, hyper_hidden=16)
    assert isinstance(build_actor(cfg, 4).net, net_type)
    assert isinstance(build_q_critic(cfg, 4).net, net_type)


def test_a_model_saved_with_other_inputs_is_refused_in_one_line() -> None:
    saved = NetworkConfig(kind="mlp", hidden=32).model_dump()
    assert NetworkConfig.saved(saved) == NetworkConfig(kind="mlp", hidden=32)
    assert NetworkConfig.saved({"hidden": 32}) == NetworkConfig(hidden=32)  # a user's dict
    del saved["inputs"]  # saved before the networks had an inputs version: version 1
    with pytest.raises(ValueError, match=r"^this model's networks read observations as version 1"):
        NetworkConfig.saved(saved)


def test_the_goal_offset_enters_in_decimetres() -> None:
    desired, achieved = torch.tensor([[0.5, 0.1, 0.2]]), torch.tensor([[0.45, 0.1, 0.23]])
    read = goal_input({"desired_goal": desired, "achieved_goal": achieved})
    assert torch.allclose(read, torch.tensor([[0.5, 0.1, 0.2, 0.5, 0.0, -0.3]]))
