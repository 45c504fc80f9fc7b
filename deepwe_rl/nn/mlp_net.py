"""The flat MLP baseline: the whole padded observation as one vector, ``max_joints`` baked in."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from deepwe_rl.morphology import DEPTH_SHAPE, OBSERVATION, STREAM_INDEX, STREAMS
from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.kinematics import READOUT_OUTPUTS
from deepwe_rl.nn.layers import POLICY_HEAD_GAIN, mlp, scaled_head
from deepwe_rl.nn.observation import (
    STREAM_INPUTS,
    Obs,
    action_mask,
    joint_count,
    joint_present,
    masked_rows,
    masked_stream,
    stream_present,
)
from deepwe_rl.nn.slot_net import SlotNet, SlotOutput


def flat_size(max_joints: int, use_depth: bool, action_input: bool) -> int:
    """Length of the flattened observation (and action) the MLP reads."""
    per_joint = sum(math.prod(key.size) for key in OBSERVATION.values() if key.per_joint)
    streams = sum(stream.width for stream in STREAM_INPUTS.values()) + len(STREAMS)
    depth = math.prod(DEPTH_SHAPE) if use_depth else 0
    action = max_joints + 1 if action_input else 0
    return max_joints * per_joint + streams + depth + action


class MLPNet(SlotNet[None]):
    """Flattens every observation key (padded joint rows and absent streams zeroed, masks as
    0/1) and, for Q critics, the masked action, then an MLP of ``layers`` layers of width
    ``hidden`` with a linear head for all J + 1 slots and a value head."""

    def __init__(
        self,
        cfg: NetworkConfig,
        max_joints: int,
        slot_outputs: int,
        has_value: bool,
        action_input: bool,
        value_outputs: int = 1,
    ) -> None:
        super().__init__(slot_outputs, has_value, action_input, value_outputs)
        self.max_joints = max_joints
        self.use_depth = cfg.use_depth
        size = flat_size(max_joints, cfg.use_depth, action_input)
        self.body = mlp([size] + [cfg.hidden] * cfg.layers)
        self.slots = (
            scaled_head(cfg.hidden, (max_joints + 1) * slot_outputs, POLICY_HEAD_GAIN)
            if slot_outputs
            else None
        )
        self.ee_step = (
            scaled_head(cfg.hidden, READOUT_OUTPUTS[cfg.readout], POLICY_HEAD_GAIN)
            if slot_outputs and READOUT_OUTPUTS[cfg.readout]
            else None
        )
        self.value = nn.Linear(cfg.hidden, self.value_outputs) if has_value else None

    def flatten(self, obs: Obs, action: Tensor | None) -> Tensor:
        """The network input ``(B, flat_size)``."""
        if joint_count(obs) != self.max_joints:
            raise ValueError(
                f"the MLP baseline was built for max_joints={self.max_joints} but the "
                f"observation has {joint_count(obs)} joint slots"
            )
        joints, streams = joint_present(obs), stream_present(obs)
        parts = [
            masked_rows(obs["joint_state"], joints).flatten(1),
            masked_rows(obs["joint_desc"], joints).flatten(1),
            joints.to(obs["joint_state"].dtype),
            *(
                masked_stream(stream.read(obs), streams[:, STREAM_INDEX[name]])
                for name, stream in STREAM_INPUTS.items()
            ),
            streams.to(obs["joint_state"].dtype),
        ]
        if self.use_depth:
            batch = obs["joint_state"].shape[0]
            if "depth" in obs:
                image = obs["depth"].reshape(batch, -1)
                parts.append(masked_stream(image, streams[:, STREAM_INDEX["depth"]]))
            else:
                parts.append(obs["joint_state"].new_zeros(batch, math.prod(DEPTH_SHAPE)))
        elif "depth" in obs:
            raise ValueError(
                "the observation has a depth image but the network was built "
                "without it; set NetworkConfig.use_depth=True"
            )
        if action is not None:
            parts.append(torch.where(action_mask(obs) > 0.5, action, action.new_zeros(())))
        return torch.cat(parts, dim=1)

    def forward(self, obs: Obs, action: Tensor | None = None, read: None = None) -> SlotOutput:
        h = self.body(self.flatten(obs, action))
        value = None if self.value is None else self.value_of(self.value(h))
        if self.slots is None:
            return SlotOutput(None, value)
        slots = self.slots(h).view(h.shape[0], self.max_joints + 1, -1)
        return SlotOutput(slots, value, None if self.ee_step is None else self.ee_step(h))
