"""A DeepWe network with one robot's generated weights folded into plain matrices.

For a fixed robot the generated weights are constants, so they fold into ordinary layers: the
joint input weights (codes times the basis, with the 1/sqrt(joints) input scale) and the
stream weights form one first layer, into whose weight and bias the FiLM scale and shift fold,
and the per-joint output layers, the gripper head and the value head form one output layer.
What remains is the stream encoders and a handful of matrix products. Used for export and for
the cached single-robot fast path. ``DeepWeNet.freeze`` builds one from its own layers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepwe_rl.nn.observation import Obs
from deepwe_rl.nn.stems import DepthEncoder, StreamReader, encode_streams

Meta = dict[str, int]
"""Sizes of a ``FrozenNet``: ``joints`` (real joints), ``slots`` (joint slots at freezing),
``outputs`` (numbers per action slot, 0 for none), ``value`` (0/1), ``stem_width``,
``depth`` (0/1: has the depth encoder) and ``ee_step`` (the readout's outputs: 3 or 5, else 0;
absent from policies exported before it existed)."""

_BUFFERS = ("stem_w", "first_w", "first_b", "rest_w", "rest_b", "head_w", "head_b")


class FrozenNet(nn.Module):
    """One DeepWe network (FiLM trunk) frozen for one robot.

    ``forward`` returns the output layer ``(B, (slots + 1) * outputs + ee_step + value)``:
    ``outputs`` numbers for each of the ``slots`` joint slots at freezing (zero for padding) and
    for the gripper (zero without one), the end effector's step with the Jacobian readout, then
    the value if the network has one. ``slots`` rearranges the first part for any joint
    padding, and ``ee_step`` reads the step.
    """

    def __init__(self, meta: Meta, state: dict[str, Tensor]) -> None:
        super().__init__()
        self.meta = dict(meta)
        self.reader = StreamReader(use_depth=bool(meta["depth"]))
        self.depth: DepthEncoder | None = None
        if meta["depth"]:
            self.depth = DepthEncoder(meta["stem_width"])
            self.depth.load_state_dict(
                {k.removeprefix("depth."): v for k, v in state.items() if k.startswith("depth.")}
            )
            self.depth.requires_grad_(False)
        for name in _BUFFERS:
            self.register_buffer(name, state[name])

    def forward(self, obs: Obs) -> Tensor:
        batch = obs["joint_state"].shape[0]
        state = obs["joint_state"][:, : self.meta["joints"]].reshape(batch, -1)
        inputs = self.reader(obs)
        streams = encode_streams(inputs, self.stem_w, self.depth).flatten(1)
        h = F.relu(torch.addmm(self.first_b, torch.cat([state, streams], dim=1), self.first_w))
        for w, b in zip(self.rest_w, self.rest_b, strict=True):
            h = F.relu(torch.addmm(b, h, w))
        return torch.addmm(self.head_b, h, self.head_w)

    def ee_step(self, out: Tensor) -> Tensor | None:
        """The end effector's step ``(B, 3)``, or step and tilt ``(B, 5)``, of a network with
        the Jacobian readout, from ``forward``'s output; None without it."""
        width = self.meta.get("ee_step", 0)
        if not width:
            return None
        start = (self.meta["slots"] + 1) * self.meta["outputs"]
        return out[:, start : start + width]

    def slots(self, out: Tensor, padded: int) -> Tensor:
        """The per-slot part of ``forward``'s output as ``(B, padded + 1, outputs)``."""
        slots, k = self.meta["slots"], self.meta["outputs"]
        grid = out[:, : (slots + 1) * k].view(-1, slots + 1, k)
        if padded == slots:
            return grid
        joints = self.meta["joints"]
        zeros = grid.new_zeros(grid.shape[0], padded - joints, k)
        return torch.cat([grid[:, :joints], zeros, grid[:, slots:]], dim=1)
