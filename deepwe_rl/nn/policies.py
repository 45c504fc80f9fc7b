"""The three modules the RL algorithms use: PPO's actor-critic, SAC's actor and Q critic.

They wrap architecture-specific ``SlotNet``s and own the action-slot semantics: slot j < J is
joint j's command, slot J the gripper's; masked slots (padding, no gripper) of the mean and
log-std are exactly zero.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from deepwe_rl.nn.kinematics import add_readout
from deepwe_rl.nn.observation import Obs, action_mask
from deepwe_rl.nn.slot_net import SlotNet, SlotOutput


class ActorOutput(NamedTuple):
    """Gaussian policy parameters per action slot, each (B, J + 1): ``mean``, ``log_std``
    (state-dependent, clamped) and ``mask`` (1 for slots that exist on this robot)."""

    mean: Tensor
    log_std: Tensor
    mask: Tensor


class PolicyOutput(NamedTuple):
    """``ActorOutput`` plus the state ``value`` (B,)."""

    mean: Tensor
    log_std: Tensor
    mask: Tensor
    value: Tensor


def _policy(net: SlotNet, out: SlotOutput, obs: Obs, bounds: tuple[float, float]) -> ActorOutput:
    """Mean and clamped log-std from per-slot outputs (B, J + 1, 2) (the mean with the joint
    motion of the end-effector step, for a network with the Jacobian readout), masked slots
    zero."""
    slots = out.slots
    if slots is None:
        raise RuntimeError(f"{type(net).__name__} was built without per-slot outputs")
    mask = action_mask(obs)
    present = mask > 0.5
    zero = slots.new_zeros(())
    mean = torch.where(present, add_readout(slots[..., 0], obs, out.ee_step), zero)
    log_std = torch.where(present, slots[..., 1].clamp(*bounds), zero)
    return ActorOutput(mean, log_std, mask)


def ppo_log_std(init: float) -> nn.Parameter:
    """PPO's learned log-std (both backends), independent of the state: one value for every
    joint slot and one for the gripper, starting at ``init`` (``algo.log_std_init``)."""
    return nn.Parameter(torch.full((2,), init))


def slot_log_std(log_std: Tensor, mean: Tensor) -> Tensor:
    """``ppo_log_std``'s two values spread over the action slots of ``mean`` (B, J + 1)."""
    joints = mean.shape[1] - 1
    return torch.cat([log_std[:1].expand(joints), log_std[1:]]).expand_as(mean)


def _value(net: SlotNet, value: Tensor | None) -> Tensor:
    """The value output, or a clear error for a network built without one."""
    if value is None:
        raise RuntimeError(f"{type(net).__name__} was built without a value head")
    return value


class Actor(nn.Module):
    """SAC's policy: ``forward(obs) -> ActorOutput``."""

    def __init__(self, net: SlotNet, log_std_min: float, log_std_max: float) -> None:
        super().__init__()
        self.net = net
        self.bounds = (log_std_min, log_std_max)

    def forward(self, obs: Obs) -> ActorOutput:
        return _policy(self.net, self.net(obs), obs, self.bounds)


class ActorCritic(nn.Module):
    """PPO's policy and value function: ``forward(obs) -> PolicyOutput``.

    ``value_net`` is None when the value head sits on the policy network's trunk (a shared
    encoder); otherwise it is a separate network of the same kind.
    """

    def __init__(
        self,
        net: SlotNet,
        value_net: SlotNet | None,
        log_std_min: float,
        log_std_max: float,
    ) -> None:
        super().__init__()
        self.net = net
        self.value_net = value_net
        self.bounds = (log_std_min, log_std_max)

    def act(self, obs: Obs) -> ActorOutput:
        """The policy alone, for rollouts: with a separate value network, that is not run."""
        return _policy(self.net, self.net(obs), obs, self.bounds)

    def forward(self, obs: Obs) -> PolicyOutput:
        read = None if self.value_net is None else self.net.read(obs)
        out = self.net(obs, read=read)
        policy = _policy(self.net, out, obs, self.bounds)
        if self.value_net is None:
            return PolicyOutput(*policy, _value(self.net, out.value))
        value = self.value_net(obs, read=read).value
        return PolicyOutput(*policy, _value(self.value_net, value))


class QCritic(nn.Module):
    """A soft Q function: ``forward(obs, action (B, J + 1)) -> (B,)``, or (B, n) quantiles for
    a network built with ``value_outputs`` n. Commands in masked slots are ignored."""

    def __init__(self, net: SlotNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, obs: Obs, action: Tensor) -> Tensor:
        return _value(self.net, self.net(obs, action).value)
