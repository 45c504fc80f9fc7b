"""Finding the distinct robots in a batch, so per-robot work runs once per robot.

A robot is identified by its morphology row: the descriptor rows of its real joints (padding
rows read as zero whatever they hold), its joint mask and its has-gripper flag. Samples with
equal rows are the same robot at the same padding.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import torch
from torch import Tensor

from deepwe_rl.morphology import JOINT_DESC_DIM
from deepwe_rl.nn.observation import GRIPPER, Obs, joint_present, masked_rows

_GOLDEN = 0.6180339887498949


class MorphologyGroups(NamedTuple):
    """The distinct morphologies of a batch.

    ``rows`` (U, R): one morphology row per distinct robot. ``inverse`` (B,): which of them each
    sample is, or None when the whole batch is one robot (U == 1).
    """

    rows: Tensor
    inverse: Tensor | None


def morphology_rows(obs: Obs, present: Tensor | None = None) -> Tensor:
    """One row per sample ``(B, J * (JOINT_DESC_DIM + 1) + 1)``: the cleaned descriptors, the
    joint mask and the has-gripper flag. ``present`` is ``joint_present(obs)`` if already
    known."""
    if present is None:
        present = joint_present(obs)
    desc = masked_rows(obs["joint_desc"], present).flatten(1)
    gripper = (obs["stream_mask"][:, GRIPPER : GRIPPER + 1] > 0.5).to(desc.dtype)
    return torch.cat([desc, present.to(desc.dtype), gripper], dim=1)


def split_rows(rows: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Undo ``morphology_rows``: descriptors ``(N, J, D)``, joint mask ``(N, J)`` and the
    has-gripper flag ``(N, 1)``."""
    joints = (rows.shape[1] - 1) // (JOINT_DESC_DIM + 1)
    desc = rows[:, : -joints - 1].view(rows.shape[0], joints, -1)
    return desc, rows[:, -joints - 1 : -1], rows[:, -1:]


@functools.cache
def _probe(width: int, device: torch.device) -> Tensor:
    """Irregular float64 weights in [0.5, 1.5) that project a row to its grouping key."""
    probe = torch.arange(width, dtype=torch.float64, device=device)
    return probe.mul_(_GOLDEN).frac_().add_(0.5)


def group_rows(rows: Tensor) -> MorphologyGroups:
    """Group equal rows of ``rows`` (B, R).

    Rows are first reduced to one float64 number each by a fixed projection with irregular
    weights, which is far cheaper to make unique than whole rows; the grouping is then checked
    exactly against the rows and, should two different rows ever project alike, redone with
    ``torch.unique`` over whole rows.
    """
    if rows.shape[0] == 1:
        return MorphologyGroups(rows, None)
    keys = rows.double() @ _probe(rows.shape[1], rows.device)
    unique_keys, inverse = torch.unique(keys, return_inverse=True)
    count = unique_keys.shape[0]
    if count == 1 and bool((rows == rows[:1]).all()):
        return MorphologyGroups(rows[:1], None)
    first = torch.empty(count, dtype=torch.long, device=rows.device)
    first.scatter_(0, inverse, torch.arange(rows.shape[0], device=rows.device))
    representatives = rows.index_select(0, first)
    if not torch.equal(representatives.index_select(0, inverse), rows):
        representatives, inverse = torch.unique(rows, dim=0, return_inverse=True)
    return MorphologyGroups(representatives, inverse)


class RobotLayout(NamedTuple):
    """Where each sample of a multi-robot batch sits when the batch is laid out robot by robot
    in a zero-padded ``(U, width)`` grid, so per-robot weights apply as one batched product
    and per-robot vectors broadcast.

    ``slot`` (B,): each sample's row in the flattened grid ``(U * width)``. ``robots``: U.
    ``width``: rows per robot (the largest robot count in the batch).
    """

    slot: Tensor
    robots: int
    width: int


def to_grid(x: Tensor, layout: RobotLayout | None) -> Tensor:
    """Samples ``x`` (B, ...) placed robot by robot into the padded grid (U, width, ...);
    padding rows are zero. A single-robot batch (``layout`` None) is its own grid (1, B, ...).
    """
    if layout is None:
        return x.unsqueeze(0)
    rows = layout.robots * layout.width
    grid = x.new_zeros(rows, *x.shape[1:]).index_copy(0, layout.slot, x)
    return grid.view(layout.robots, layout.width, *x.shape[1:])


def from_grid(grid: Tensor, layout: RobotLayout | None) -> Tensor:
    """Undo ``to_grid``: (U, width, ...) back to batch order (B, ...)."""
    if layout is None:
        return grid.squeeze(0)
    return grid.flatten(0, 1).index_select(0, layout.slot)


def robot_layout(inverse: Tensor, robots: int) -> RobotLayout:
    """The grid layout for samples whose robots are ``inverse`` (B,), with ``robots`` = U."""
    counts = torch.bincount(inverse, minlength=robots)
    width = int(counts.max())
    order = torch.argsort(inverse, stable=True)
    ordered = inverse.index_select(0, order)
    starts = (counts.cumsum(0) - counts).index_select(0, ordered)
    rank = torch.arange(inverse.shape[0], device=inverse.device) - starts
    slot = torch.empty_like(inverse).index_copy_(0, order, ordered * width + rank)
    return RobotLayout(slot, robots, width)
