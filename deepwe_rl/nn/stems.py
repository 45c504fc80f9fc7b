"""Encoders for the sensor streams (end effector, gripper, object, goal and depth image).

The stems are shared by every robot. A robot without a stream gets an exact zero in that
stream's slot: the stream's input, including the presence flag through which its encoder
reads its bias, is replaced by zeros via ``torch.where`` (so neither the output nor any
gradient sees the missing stream's contents), which makes the encoder's pre-activation exactly
zero.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from deepwe_rl.morphology import DEPTH_SHAPE, STREAM_INDEX
from deepwe_rl.nn.observation import (
    DEPTH,
    STREAM_INPUTS,
    Obs,
    gripper_input,
    masked_stream,
    stream_present,
)

VECTOR_STREAMS = tuple(STREAM_INPUTS)
"""The vector streams, in the order of the stems' output slots; depth (if built) comes last.
This is also their order in the observation's stream mask, whose first columns the stems read
as presence flags."""
assert [STREAM_INDEX[s] for s in VECTOR_STREAMS] + [DEPTH] == list(range(len(VECTOR_STREAMS) + 1))


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
    """What the stems read, one row per sample: ``vector`` (R, sum of input dims + vector
    streams) the vector streams side by side followed by each vector stream's presence (0/1),
    ``present`` (R, count) which streams exist, ``depth`` (R, *DEPTH_SHAPE) the depth image or
    None. Absent streams' entries are zero."""

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
        self.in_dims = [
            stream.width + int(gripper_action and name == "gripper")
            for name, stream in STREAM_INPUTS.items()
        ]
        self.count = len(VECTOR_STREAMS) + int(use_depth)
        columns = [i for i, d in enumerate(self.in_dims) for _ in range(d)]
        columns += list(range(len(VECTOR_STREAMS)))
        self.register_buffer("column_stream", torch.tensor(columns), persistent=False)

    def forward(self, obs: Obs, action: Tensor | None = None) -> StreamInputs:
        if "depth" in obs and not self.use_depth:
            raise ValueError(
                "the observation has a depth image but the network was built "
                "without a depth encoder; set NetworkConfig.use_depth=True"
            )
        present = stream_present(obs)[:, : self.count]
        if self.use_depth and "depth" not in obs:
            present = present.clone()
            present[:, -1] = False
        flags = present[:, : len(VECTOR_STREAMS)].to(obs["ee"].dtype)
        parts = [
            gripper_input(obs, action) if name == "gripper" else stream.read(obs)
            for name, stream in STREAM_INPUTS.items()
        ]
        parts.append(flags)
        x = torch.where(present.index_select(1, self.column_stream), torch.cat(parts, 1), 0.0)
        depth = None
        if self.use_depth:
            image = obs.get("depth")
            if image is None:
                image = x.new_zeros(x.shape[0], *DEPTH_SHAPE)
            depth = masked_stream(image, present[:, -1])
        return StreamInputs(x, present, depth)


def encode_streams(inputs: StreamInputs, weight: Tensor, depth: DepthEncoder | None) -> Tensor:
    """Stream encodings ``(R, count, width)``: the vector streams through the block-diagonal
    layer ``weight`` (vector streams * width, inputs + vector streams) with ReLU, whose last
    columns (read by the presence flags) are each stream's bias, and the depth image through
    ``depth``. Absent streams' encodings are zero: their inputs, presence flag included, are
    zero, so their pre-activations are exactly zero."""
    x, present, image = inputs
    h = F.relu(F.linear(x, weight), inplace=True).view(x.shape[0], len(VECTOR_STREAMS), -1)
    if depth is not None and image is not None:
        # The depth image of an absent stream is zero but its encoding need not be.
        encoded = depth(image) * present[:, -1:].to(h.dtype)
        h = torch.cat([h, encoded.unsqueeze(1)], dim=1)
    return h


class StreamStems(nn.Module):
    """The stream encoders' hidden layers: one ``Linear + ReLU`` per vector stream (plus the
    depth CNN when ``use_depth``), shared by every robot.

    ``forward`` returns ``(R, count, width)``: one hidden encoding per stream, zero for streams
    the robot lacks. Each stream's encoder is a one-hidden-layer MLP whose output layer is
    that stream's block of the consuming network's next linear layer (the DeepWe trunk's
    first layer, or the transformer's stream-token projection), so no separate output layer
    is spent here. The vector streams run as one block-diagonal product (``fused``), each
    stream's bias in the column its presence flag reads.
    ``gripper_action`` widens the gripper encoder by one input: the gripper's action command,
    for Q critics.
    """

    def __init__(self, width: int, gripper_action: bool = False, use_depth: bool = False) -> None:
        super().__init__()
        self.width = width
        self.reader = StreamReader(gripper_action, use_depth)
        dims = self.reader.in_dims
        inputs = sum(dims)
        # Every stream's weights and bias side by side: row r holds hidden unit r of each
        # stream, in that stream's columns.
        self.weight = nn.Parameter(torch.empty(width, inputs + len(dims)))
        block = torch.zeros(len(dims) * width, inputs + len(dims), dtype=torch.bool)
        start = 0
        with torch.no_grad():
            for i, d in enumerate(dims):
                rows = slice(i * width, (i + 1) * width)
                block[rows, start : start + d] = True
                block[rows, inputs + i] = True
                # A plain Linear(d, width)'s init, weights and bias.
                bound = 1.0 / math.sqrt(d)
                self.weight[:, start : start + d].uniform_(-bound, bound)
                self.weight[:, inputs + i].uniform_(-bound, bound)
                start += d
        self.register_buffer("block", block, persistent=False)
        self.depth = DepthEncoder(width) if use_depth else None

    @property
    def count(self) -> int:
        """Number of stream slots in the output."""
        return len(VECTOR_STREAMS) + int(self.depth is not None)

    def inputs(self, obs: Obs, action: Tensor | None = None) -> StreamInputs:
        """The stems' inputs from an observation batch (see ``StreamReader``)."""
        return self.reader(obs, action)

    def fused(self) -> Tensor:
        """The vector streams' block-diagonal weight (see ``encode_streams``)."""
        return self.weight.repeat(len(self.reader.in_dims), 1) * self.block

    def forward(self, inputs: StreamInputs) -> Tensor:
        """Stream encodings ``(R, count, width)``."""
        return encode_streams(inputs, self.fused(), self.depth)
