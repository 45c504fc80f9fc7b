"""Building the networks the RL algorithms use, for any ``NetworkConfig.kind``."""

from __future__ import annotations

from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.mlp_net import MLPNet
from deepwe_rl.nn.policies import Actor, ActorCritic, QCritic
from deepwe_rl.nn.slot_net import SlotNet
from deepwe_rl.nn.transformer_net import TransformerNet

POLICY_OUTPUTS = 2
"""Per action slot: the Gaussian mean and log-std."""


def build_net(
    cfg: NetworkConfig,
    max_joints: int,
    slot_outputs: int,
    has_value: bool,
    action_input: bool = False,
    cache_weights: bool = False,
    value_outputs: int = 1,
) -> SlotNet:
    """One ``SlotNet`` of ``cfg.kind``. ``max_joints`` is baked in only by the ``mlp`` kind;
    ``cache_weights`` only matters for ``deepwe``."""
    if cfg.kind == "deepwe":
        return DeepWeNet(cfg, slot_outputs, has_value, action_input, cache_weights, value_outputs)
    if cfg.kind == "mlp":
        return MLPNet(cfg, max_joints, slot_outputs, has_value, action_input, value_outputs)
    return TransformerNet(cfg, slot_outputs, has_value, action_input, value_outputs)


def build_actor_critic(
    cfg: NetworkConfig, max_joints: int, share_encoder: bool = False
) -> ActorCritic:
    """PPO's actor-critic. With ``share_encoder`` the value head reads the policy trunk's
    features; otherwise the value function is a separate network of the same kind. DeepWe
    generated weights are cached across no-grad calls (rollouts)."""
    if share_encoder:
        net = build_net(cfg, max_joints, POLICY_OUTPUTS, True, cache_weights=True)
        return ActorCritic(net, None, cfg.log_std_min, cfg.log_std_max)
    net = build_net(cfg, max_joints, POLICY_OUTPUTS, False, cache_weights=True)
    value_net = build_net(cfg, max_joints, 0, True, cache_weights=True)
    return ActorCritic(net, value_net, cfg.log_std_min, cfg.log_std_max)


def build_actor(cfg: NetworkConfig, max_joints: int) -> Actor:
    """SAC's actor. DeepWe generated weights are cached across no-grad calls (acting)."""
    net = build_net(cfg, max_joints, POLICY_OUTPUTS, False, cache_weights=True)
    return Actor(net, cfg.log_std_min, cfg.log_std_max)


def build_q_critic(cfg: NetworkConfig, max_joints: int) -> QCritic:
    """A SAC Q critic reading the action in each joint's slot. It never caches generated
    weights: its no-grad use is as a target network, which is typically updated through
    ``param.data`` where version counters cannot see the change."""
    return QCritic(build_net(cfg, max_joints, 0, True, action_input=True))


def build_quantile_critic(cfg: NetworkConfig, max_joints: int, n_quantiles: int) -> QCritic:
    """A TQC critic: like ``build_q_critic``, with ``n_quantiles`` outputs (B, n_quantiles)
    estimating quantiles of the return."""
    return QCritic(
        build_net(cfg, max_joints, 0, True, action_input=True, value_outputs=n_quantiles)
    )
