"""The MetaMorph-style transformer baseline: one token per joint and per sensor stream."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from deepwe_rl.morphology import JOINT_DESC_DIM, JOINT_STATE_DIM
from deepwe_rl.nn.config import NetworkConfig
from deepwe_rl.nn.kinematics import READOUT_OUTPUTS
from deepwe_rl.nn.layers import POLICY_HEAD_GAIN, scaled_head, transformer_encoder
from deepwe_rl.nn.observation import Obs, joint_inputs, joint_present, masked_rows
from deepwe_rl.nn.slot_net import SlotNet, SlotOutput
from deepwe_rl.nn.stems import StreamStems


class TransformerNet(SlotNet[None]):
    """Joint tokens from a shared linear map of ``[joint_state (+ action), joint_desc]``,
    stream tokens from the stream stems, a transformer encoder with padded joints and absent
    streams masked out of attention, a shared per-token decoder for each joint's outputs, and
    the masked mean of the output tokens for the gripper, end-effector step and value heads."""

    def __init__(
        self,
        cfg: NetworkConfig,
        slot_outputs: int,
        has_value: bool,
        action_input: bool,
        value_outputs: int = 1,
    ) -> None:
        super().__init__(slot_outputs, has_value, action_input, value_outputs)
        width = cfg.attn_dim
        self.joint_token = nn.Linear(JOINT_STATE_DIM + int(action_input) + JOINT_DESC_DIM, width)
        self.stems = StreamStems(cfg.stem_width, action_input, cfg.use_depth)
        self.stream_token = nn.Linear(cfg.stem_width, width)
        self.encoder = transformer_encoder(width, cfg.attn_heads, cfg.attn_layers)
        self.joint_head = self.gripper_head = self.ee_head = None
        if slot_outputs:
            self.joint_head = scaled_head(width, slot_outputs, POLICY_HEAD_GAIN)
            self.gripper_head = scaled_head(width, slot_outputs, POLICY_HEAD_GAIN)
            if READOUT_OUTPUTS[cfg.readout]:
                self.ee_head = scaled_head(width, READOUT_OUTPUTS[cfg.readout], POLICY_HEAD_GAIN)
        self.value = nn.Linear(width, self.value_outputs) if has_value else None

    def forward(self, obs: Obs, action: Tensor | None = None, read: None = None) -> SlotOutput:
        joints = joint_present(obs)
        desc = masked_rows(obs["joint_desc"], joints)
        joint_tokens = self.joint_token(torch.cat([joint_inputs(obs, action), desc], dim=2))
        stream_inputs = self.stems.inputs(obs, action)
        stream_tokens = self.stream_token(self.stems(stream_inputs))
        tokens = torch.cat([joint_tokens, stream_tokens], dim=1)
        valid = torch.cat([joints, stream_inputs.present], dim=1)
        out = self.encoder(tokens, src_key_padding_mask=~valid)
        kept = torch.where(valid.unsqueeze(-1), out, out.new_zeros(()))
        pooled = kept.sum(1) / valid.sum(1, keepdim=True).to(out.dtype)
        value = None if self.value is None else self.value_of(self.value(pooled))
        if self.joint_head is None or self.gripper_head is None:
            return SlotOutput(None, value)
        j = joints.shape[1]
        slots = torch.cat(
            [self.joint_head(out[:, :j]), self.gripper_head(pooled).unsqueeze(1)], dim=1
        )
        return SlotOutput(slots, value, None if self.ee_head is None else self.ee_head(pooled))
