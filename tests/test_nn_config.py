"""NetworkConfig validation and the factories' choice of architecture."""

from __future__ import annotations

import pytest

from deepwe_rl.nn import NetworkConfig, build_actor, build_q_critic
from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.mlp_net import MLPNet
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
