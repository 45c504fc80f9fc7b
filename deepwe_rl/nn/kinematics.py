"""The arm's kinematics, read from the observation: the Jacobian readout's layer.

Every joint descriptor holds the joint's origin and axis in the base frame at zero pose, which
is a screw axis of the product-of-exponentials formula. With the joint angles of the joint
state, they give each joint's current axis and origin, and so the end effector's position
Jacobian, for any serial arm of revolute joints, with no learned weights. A network with
``readout: jacobian`` outputs where the end effector should go (one step, a 3-vector shared by
every arm) and this module turns it into joint commands the way the scripted expert does: the
damped least-squares inverse of that Jacobian. With ``readout: jacobian_tilt`` the network also
outputs a turn of the end effector about the world's x and y axes, which the joints' current
axes (the turning Jacobian) carry into the same solve, as the PickAndPlace expert turns its
fingers down.
"""

from __future__ import annotations

import torch
from torch import Tensor

from deepwe_rl.nn.config import ReadoutKind
from deepwe_rl.nn.observation import Obs, joint_present, masked_rows

READOUT_OUTPUTS: dict[ReadoutKind, int] = {"joints": 0, "jacobian": 3, "jacobian_tilt": 5}
"""Outputs each readout adds beside a policy's action slots: none; the end effector's step (x,
y, z) in units of a full end-effector step; that step and a turn about the world's x and y axes
in units of a full joint step (radians)."""

DAMPING = 0.05
"""Damping (metres) of the least-squares inverse, as the scripted expert's ``joint_motion``."""

TILT_WEIGHT = 0.5
"""Weight of the turning rows against the step's, as the scripted expert's (``arm.py``)."""


def _rotations(axis: Tensor, angle: Tensor) -> Tensor:
    """Rotation matrices (..., 3, 3) by ``angle`` (...) about unit ``axis`` (..., 3), by
    Rodrigues' formula; a zero axis gives the identity."""
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack(
        [zero, -z, y, z, zero, -x, -y, x, zero], dim=-1
    ).unflatten(-1, (3, 3))  # fmt: skip
    s, c = angle.sin()[..., None, None], angle.cos()[..., None, None]
    eye = torch.eye(3, dtype=axis.dtype, device=axis.device)
    return eye + s * k + (1.0 - c) * (k @ k)


def ee_jacobian(obs: Obs) -> Tensor:
    """The end effector's position Jacobian ``(B, 3, J)`` at the observed joint angles, in
    metres per radian; the columns of padded joint slots are zero."""
    return ee_jacobians(obs)[0]


def ee_jacobians(obs: Obs) -> tuple[Tensor, Tensor]:
    """The end effector's position Jacobian ``(B, 3, J)`` and turning Jacobian (each joint's
    current unit axis, ``(B, 3, J)``) at the observed joint angles; padded slots' columns are
    zero."""
    present = joint_present(obs)
    desc = masked_rows(obs["joint_desc"], present)
    state = masked_rows(obs["joint_state"], present)
    origin, axis = desc[..., 0:3], desc[..., 3:6]
    angle = torch.atan2(state[..., 0], state[..., 1])
    turns = _rotations(axis, angle)  # each joint's own rotation, about its zero-pose line
    rotation = torch.eye(3, dtype=desc.dtype, device=desc.device).expand(desc.shape[0], 3, 3)
    shift = desc.new_zeros(desc.shape[0], 3)
    columns, axes = [], []
    for j in range(desc.shape[1]):
        # The joints before j have moved its line: by the rigid motion (rotation, shift).
        now_axis = (rotation @ axis[:, j, :, None])[..., 0]
        now_origin = (rotation @ origin[:, j, :, None])[..., 0] + shift
        columns.append(torch.linalg.cross(now_axis, obs["ee"][:, 0:3] - now_origin))
        axes.append(now_axis)
        own_shift = origin[:, j] - (turns[:, j] @ origin[:, j, :, None])[..., 0]
        shift = (rotation @ own_shift[..., None])[..., 0] + shift
        rotation = rotation @ turns[:, j]
    return torch.stack(columns, dim=2), torch.stack(axes, dim=2)


def joint_motion(obs: Obs, step: Tensor, tilt: Tensor | None = None) -> Tensor:
    """Joint commands ``(B, J)`` that move the end effector by ``step`` (B, 3), and turn it by
    ``tilt`` (B, 2) about the world's x and y axes where given, in units of a command's full
    step on both sides (the action's 0.05 rad per joint, 0.05 m per end-effector step, 0.05 rad
    of turn): the damped least-squares inverse of ``ee_jacobians`` (the turning rows weighted
    by ``TILT_WEIGHT``), scaled as a whole so that no command passes 1, as the scripted
    expert's action is. Padded slots are zero."""
    jac, axes = ee_jacobians(obs)
    if tilt is not None:
        jac = torch.cat([jac, TILT_WEIGHT * axes[:, :2]], dim=1)
        step = torch.cat([step, TILT_WEIGHT * tilt], dim=1)
    damping = torch.eye(jac.shape[1], dtype=jac.dtype, device=jac.device) * DAMPING**2
    solved = torch.linalg.solve(jac @ jac.transpose(1, 2) + damping, step[..., None])
    moves = (jac.transpose(1, 2) @ solved)[..., 0]
    largest = moves.abs().amax(dim=1, keepdim=True).clamp(min=1.0)
    return moves / largest


def add_readout(mean: Tensor, obs: Obs, ee_step: Tensor | None) -> Tensor:
    """``mean`` (B, J + 1) with the joint commands of ``ee_step`` added to its joint slots: a
    step (B, 3), or a step and a tilt (B, 5); ``mean`` itself for a network without the
    readout (``ee_step`` None)."""
    if ee_step is None:
        return mean
    tilt = ee_step[:, 3:] if ee_step.shape[1] > 3 else None
    motion = joint_motion(obs, ee_step[:, :3], tilt)
    return torch.cat([mean[:, : motion.shape[1]] + motion, mean[:, motion.shape[1] :]], dim=1)
