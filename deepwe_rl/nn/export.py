"""Exporting a DeepWe policy for one robot as a plain network without the hypernetwork."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.frozen import FrozenNet
from deepwe_rl.nn.kinematics import add_readout
from deepwe_rl.nn.observation import Obs, joint_count
from deepwe_rl.nn.policies import Actor, ActorCritic

FORMAT = "deepwe_rl.exported_policy/3"


class ExportedPolicy(nn.Module):
    """A DeepWe policy frozen for one robot: no hypernetwork, the same mean actions.

    ``forward(obs)`` takes the usual observation dict (any batch, any joint padding) of the
    robot it was exported for and returns the raw Gaussian mean ``(B, J + 1)``: no tanh, no
    clipping (squashing is the agent's business); masked slots are 0. ``value(obs)`` returns
    the state value ``(B,)`` when exported from an ``ActorCritic``.
    """

    def __init__(self, policy: FrozenNet, value_net: FrozenNet | None) -> None:
        super().__init__()
        self.policy = policy
        self.value_net = value_net

    @property
    def has_value(self) -> bool:
        """Whether ``value`` is available."""
        return bool(self.policy.meta["value"]) or self.value_net is not None

    def forward(self, obs: Obs) -> Tensor:
        out = self.policy(obs)
        mean = self.policy.slots(out, joint_count(obs))[..., 0]
        return add_readout(mean, obs, self.policy.ee_step(out))

    def value(self, obs: Obs) -> Tensor:
        """The state value ``(B,)``."""
        if self.value_net is not None:
            return self.value_net(obs)[:, -1]
        if not self.policy.meta["value"]:
            raise RuntimeError("this policy was exported without a value function")
        return self.policy(obs)[:, -1]

    def save(self, path: str | Path) -> None:
        """Write plain tensors, ints and strings, loadable with ``weights_only=True``."""
        nets = {"policy": self.policy, "value": self.value_net}
        data: dict[str, object] = {"format": FORMAT}
        for name, net in nets.items():
            data[name] = None if net is None else {"meta": net.meta, "state": net.state_dict()}
        torch.save(data, path)

    @classmethod
    def load(
        cls, path: str | Path, map_location: str | torch.device | None = None
    ) -> ExportedPolicy:
        """Rebuild a policy written by ``save``."""
        data = torch.load(path, weights_only=True, map_location=map_location)
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} is not an exported DeepWe policy ({FORMAT})")
        value = data["value"]
        return cls(
            FrozenNet(data["policy"]["meta"], data["policy"]["state"]),
            None if value is None else FrozenNet(value["meta"], value["state"]),
        )


def export_policy(module: Actor | ActorCritic, obs_for_one_robot: Obs) -> ExportedPolicy:
    """Freeze a DeepWe ``Actor`` or ``ActorCritic`` (FiLM trunk) for the robot of
    ``obs_for_one_robot`` (a batched observation dict; its first sample defines the robot)."""
    nets = [module.net] + ([module.value_net] if isinstance(module, ActorCritic) else [])
    frozen = []
    for net in nets:
        if net is None:
            continue
        if not isinstance(net, DeepWeNet):
            raise TypeError(f"export needs a DeepWe network, got {type(net).__name__}")
        frozen.append(net.freeze(obs_for_one_robot))
    return ExportedPolicy(frozen[0], frozen[1] if len(frozen) > 1 else None)
