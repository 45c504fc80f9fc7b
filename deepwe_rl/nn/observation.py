"""Reading a batched observation dict: masks, stream presence and the derived inputs.

Every helper selects with ``torch.where`` rather than multiplying by a mask, so padded joint
rows and masked streams may hold anything (even NaN) without reaching a network's output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from deepwe_rl.morphology import OBSERVATION, STREAM_INDEX

Obs = dict[str, Tensor]
"""A batch of observations: float32 tensors with the batch dimension first."""

GRIPPER = STREAM_INDEX["gripper"]
DEPTH = STREAM_INDEX["depth"]


def joint_count(obs: Obs) -> int:
    """Number of joint slots ``J`` (real plus padding) in this batch."""
    return obs["joint_mask"].shape[1]


def joint_present(obs: Obs) -> Tensor:
    """Boolean ``(B, J)``: which joint slots hold a real joint."""
    return obs["joint_mask"] > 0.5


def stream_present(obs: Obs) -> Tensor:
    """Boolean ``(B, len(STREAMS))``: which sensor streams the robot has."""
    return obs["stream_mask"] > 0.5


def action_mask(obs: Obs) -> Tensor:
    """Float ``(B, J + 1)``: 1 for a real joint slot or an existing gripper, else 0."""
    return torch.cat([obs["joint_mask"], obs["stream_mask"][:, GRIPPER : GRIPPER + 1]], dim=1)


def masked_rows(rows: Tensor, present: Tensor) -> Tensor:
    """``rows`` (B, J, D) with every row whose ``present`` (B, J) entry is False set to 0."""
    return torch.where(present.unsqueeze(-1), rows, rows.new_zeros(()))


def masked_stream(values: Tensor, present: Tensor) -> Tensor:
    """``values`` (B, ...) with every sample whose ``present`` (B,) entry is False set to 0."""
    shape = (-1,) + (1,) * (values.dim() - 1)
    return torch.where(present.view(shape), values, values.new_zeros(()))


RELATIVE_SCALE = 10.0
"""Offsets between bodies (object to end effector, goal to what must reach it) enter the
networks in decimetres, so that the centimetre offsets a push, a grasp or the last steps of a
reach turn on are not lost among inputs of order one."""

OBJECT_INPUT_DIM = OBSERVATION["object"].size[0] + 3


def object_input(obs: Obs) -> Tensor:
    """The object stream's input ``[object, RELATIVE_SCALE * (object - end effector)]``
    (positions), ``(B, OBJECT_INPUT_DIM)``: the offset a manipulation policy steers by, handed
    to every network rather than left for it to subtract."""
    offset = obs["object"][:, 0:3] - obs["ee"][:, 0:3]
    return torch.cat([obs["object"], RELATIVE_SCALE * offset], dim=1)


def goal_input(obs: Obs) -> Tensor:
    """The goal stream's input ``[desired_goal, RELATIVE_SCALE * (desired_goal -
    achieved_goal)]``, (B, 6). In metres, the offset left the quickstart's reach short of the
    goal on its long arms (``docs/results.md``, Quickstart learning)."""
    desired = obs["desired_goal"]
    return torch.cat([desired, RELATIVE_SCALE * (desired - obs["achieved_goal"])], dim=1)


def joint_inputs(obs: Obs, action: Tensor | None, present: Tensor | None = None) -> Tensor:
    """Per-joint input rows ``(B, J, JOINT_STATE_DIM (+1))``: the joint state, with the
    joint's own action command appended when ``action`` (B, J + 1) is given. Padded rows
    are zero. ``present`` is ``joint_present(obs)`` if already known."""
    rows = obs["joint_state"]
    if action is not None:
        rows = torch.cat([rows, action[:, : rows.shape[1], None]], dim=2)
    return masked_rows(rows, joint_present(obs) if present is None else present)


def gripper_input(obs: Obs, action: Tensor | None) -> Tensor:
    """The gripper stream's input, with the gripper command (the last action slot) appended
    when ``action`` is given."""
    if action is None:
        return obs["gripper"]
    return torch.cat([obs["gripper"], action[:, -1:]], dim=1)


class StreamInput(NamedTuple):
    """What the networks read from one vector stream: ``read(obs)`` (B, ``width``)."""

    width: int
    read: Callable[[Obs], Tensor]


def _key(name: str) -> StreamInput:
    """A stream read as its observation key is."""
    return StreamInput(OBSERVATION[name].size[0], lambda obs: obs[name])


STREAM_INPUTS: dict[str, StreamInput] = {
    "ee": _key("ee"),
    "gripper": _key("gripper"),
    "object": StreamInput(OBJECT_INPUT_DIM, object_input),
    "goal": StreamInput(2 * OBSERVATION["desired_goal"].size[0], goal_input),
}
"""The vector streams' network inputs, in the order of ``stream_mask`` (depth, an image, comes
after them): what the stems and the mlp baseline read."""
assert [STREAM_INDEX[name] for name in STREAM_INPUTS] == list(range(len(STREAM_INPUTS)))
