"""Encoders for the sensor streams (end effector, gripper, object, goal and depth image).

The stems are shared by every robot. A robot without a stream gets an exact zero in that
stream's slot: the stream's input is replaced by zeros via ``torch.where`` (so neither the
output nor any gradient sees the missing stream's contents) and its encoding, then finite, is
multiplied by zero.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepwe_rl.morphology import (
    DEPTH_SHAPE,
    EE_DIM,
    GOAL_DIM,
    GRIPPER_DIM,
    OBJECT_DIM,
    STREAM_INDEX,
)
from deepwe_rl.nn.observation import (
    DEPTH,
    Obs,
    goal_input,
    gripper_input,
    masked_stream,
    stream_present,
)

VECTOR_STREAMS = ("ee", "gripper", "object", "goal")
"""The vector streams, in the order of the stems' output slots; depth (if built) comes last."""


class DepthEncoder(nn.Module):
    """A small CNN from a ``DEPTH_SHAPE`` depth image to a ``width`` feature vector."""

    def __init__(self, width: int) -> None:
        super().__init__()
        channels, height, image_width = DEPTH_SHAPE
        self.convs = nn.Sequential(
            nn.Conv2d(channels, 16, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        flat = 32 * (height // 8) * (image_width // 8)
        self.project = nn.Sequential(nn.Linear(flat, width), nn.ReLU())

    def forward(self, depth: Tensor) -> Tensor:
        return self.project(self.convs(depth))


class StreamInputs(NamedTuple):
    """What the stems read, one row per sample: ``vector`` (R, sum of input dims) the vector
    streams side by side, ``present`` (R, count) which streams exist, ``depth``
    (R, *DEPTH_SHAPE) the depth image or None. Absent streams' entries are zero."""

    vector: Tensor
    present: Tensor
    depth: Tensor | None


class StreamReader(nn.Module):
    """Reads the stream encoders' inputs from an observation batch (absent streams zeroed);
    ``gripper_action`` appends the gripper command for Q critics, ``use_depth`` includes the
    depth image."""

    def __init__(self, gripper_action: bool = False, use_depth: bool = False) -> None:
        super().__init__()
        self.use_depth = use_depth
        self.in_dims = [EE_DIM, GRIPPER_DIM + int(gripper_action), OBJECT_DIM, 2 * GOAL_DIM]
        streams = [STREAM_INDEX[s] for s in VECTOR_STREAMS] + ([DEPTH] if use_depth else [])
        self.register_buffer("streams", torch.tensor(streams), persistent=False)
        columns = [i for i, d in enumerate(self.in_dims) for _ in range(d)]
        self.register_buffer("column_stream", torch.tensor(columns), persistent=False)

    def forward(self, obs: Obs, action: Tensor | None = None) -> StreamInputs:
        if "depth" in obs and not self.use_depth:
            raise ValueError(
                "the observation has a depth image but the network was built "
                "without a depth encoder; set NetworkConfig.use_depth=True"
            )
        present = stream_present(obs).index_select(1, self.streams)
        if self.use_depth and "depth" not in obs:
            present[:, -1] = False
        x = torch.cat([obs["ee"], gripper_input(obs, action), obs["object"], goal_input(obs)], 1)
        x = torch.where(present.index_select(1, self.column_stream), x, x.new_zeros(()))
        depth = None
        if self.use_depth:
            image = obs.get("depth")
            if image is None:
                image = x.new_zeros(x.shape[0], *DEPTH_SHAPE)
            depth = masked_stream(image, present[:, -1])
        return StreamInputs(x, present, depth)


def encode_streams(
    inputs: StreamInputs, weight: Tensor, bias: Tensor, depth: DepthEncoder | None
) -> Tensor:
    """Stream encodings ``(R, count, width)``: the vector streams through the block-diagonal
    layer ``weight`` (count * width, inputs) and ``bias`` with ReLU, the depth image through
    ``depth``. Absent streams' encodings are zero."""
    x, present, image = inputs
    h = F.relu(F.linear(x, weight, bias)).view(x.shape[0], len(VECTOR_STREAMS), -1)
    if depth is not None and image is not None:
        h = torch.cat([h, depth(image).unsqueeze(1)], dim=1)
    # Absent streams' inputs are already zero, so h is finite and a product with the 0/1
    # presence zeroes their encodings exactly.
    return h * present.unsqueeze(2).to(h.dtype)


class StreamStems(nn.Module):
    """The stream encoders' hidden layers: one ``Linear + ReLU`` per vector stream (plus the
    depth CNN when ``use_depth``), shared by every robot.

    ``forward`` returns ``(R, count, width)``: one hidden encoding per stream, zero for streams
    the robot lacks. Each stream's encoder is a one-hidden-layer MLP whose output layer is
    that stream's block of the consuming network's next linear layer (the DeepWe trunk's
    first layer, or the transformer's stream-token projection), so no separate output layer
    is spent here. The vector streams run as one block-diagonal product.
    ``gripper_action`` widens the gripper encoder by one input: the gripper's action command,
    for Q critics.
    """

    def __init__(self, width: int, gripper_action: bool = False, use_depth: bool = False) -> None:
        super().__init__()
        self.width = width
        self.reader = StreamReader(gripper_action, use_depth)
        self.layers = nn.ModuleList(nn.Linear(d, width) for d in self.reader.in_dims)
        self.depth = DepthEncoder(width) if use_depth else None

    @property
    def count(self) -> int:
        """Number of stream slots in the output."""
        return len(VECTOR_STREAMS) + int(self.depth is not None)

    def inputs(self, obs: Obs, action: Tensor | None = None) -> StreamInputs:
        """The stems' inputs from an observation batch (see ``StreamReader``)."""
        return self.reader(obs, action)

    def fused(self) -> tuple[Tensor, Tensor]:
        """The vector streams' layers as one block-diagonal weight ``(count * width, inputs)``
        and bias."""
        weight = torch.block_diag(*(layer.weight for layer in self.layers))
        return weight, torch.cat([layer.bias for layer in self.layers])

    def forward(self, inputs: StreamInputs) -> Tensor:
        """Stream encodings ``(R, count, width)``."""
        return encode_streams(inputs, *self.fused(), self.depth)
