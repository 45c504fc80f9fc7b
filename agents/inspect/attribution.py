"""Which joints and which observation streams drive a policy's action, two ways.

- Gradient x input: for every action slot the robot has, the gradient of the slot's mean
  action with respect to each observation input is multiplied by that input; the absolute
  values are summed per joint (its joint-state row) and per stream, over slots, and averaged
  over the observations given.
- Perturbation (a LIME-style robustness check): Gaussian noise of a given scale is added to one
  joint's joint-state row, or to one stream's inputs, the rest fixed; the absolute change of
  the mean action, summed over the robot's action slots, is averaged over noise draws and
  observations.

Padded joints and streams the robot lacks get exactly zero in both: the networks read them
through ``torch.where`` (no gradient reaches them, noise there changes nothing) and what the
robot lacks is set to zero by the same masks, whatever the padding holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from deepwe_rl.agents.robots import short_name
from deepwe_rl.morphology import STREAM_INDEX, STREAMS
from deepwe_rl.nn.observation import Obs, action_mask, joint_present, stream_present

STREAM_KEYS: dict[str, tuple[str, ...]] = {
    "ee": ("ee",),
    "gripper": ("gripper",),
    "object": ("object",),
    "goal": ("desired_goal", "achieved_goal"),
    "depth": ("depth",),
}
"""The observation keys each stream of ``STREAMS`` is read from."""


@dataclass(frozen=True)
class Attribution:
    """How much each input drives the action, summed over action slots: ``joints`` (J,) per
    joint slot, ``streams`` per stream name in ``STREAMS`` order."""

    joints: np.ndarray
    streams: dict[str, float]

    def shares(self) -> np.ndarray:
        """Joints then streams as fractions of their total (zeros when all are zero)."""
        values = np.concatenate([self.joints, list(self.streams.values())])
        total = values.sum()
        return values / total if total > 0 else values


def attribution(policy: nn.Module, obs: Obs) -> Attribution:
    """Gradient x input attribution of ``policy``'s mean action (an ``ActorCritic`` or ``Actor``,
    whose output has ``mean`` (B, J + 1)) on the batch ``obs`` of one robot."""
    keys = ["joint_state", *(k for s in STREAMS for k in STREAM_KEYS[s] if k in obs)]
    inputs = {k: obs[k].detach().clone().requires_grad_(True) for k in keys}
    slots = action_mask(obs) > 0.5
    per_key = {k: torch.zeros_like(obs[k]) for k in keys}
    with torch.enable_grad():
        mean = policy({**obs, **inputs}).mean
        for i in range(mean.shape[1]):
            if not bool(slots[:, i].any()):
                continue
            grads = torch.autograd.grad(
                mean[:, i].sum(), list(inputs.values()), retain_graph=True, allow_unused=True
            )
            for k, g in zip(keys, grads, strict=True):
                if g is not None:
                    per_key[k] += (g * inputs[k]).abs().detach()
    per_stream = {
        name: sum(
            (per_key[k].flatten(1).sum(1) for k in STREAM_KEYS[name] if k in per_key),
            torch.zeros(mean.shape[0]),
        )
        for name in STREAMS
    }
    return _masked(obs, per_key["joint_state"].sum(-1), per_stream)


def _masked(obs: Obs, per_joint: torch.Tensor, per_stream: dict[str, torch.Tensor]) -> Attribution:
    """Per-observation values (B, J) and (B,) per stream, zero where the robot has no joint or
    no stream, averaged over the batch."""
    joints = torch.where(joint_present(obs), per_joint, 0.0).mean(0)
    has = stream_present(obs)
    streams = {
        name: float(torch.where(has[:, STREAM_INDEX[name]], per_stream[name], 0.0).mean())
        for name in STREAMS
    }
    return Attribution(joints.numpy(), streams)


@torch.no_grad()
def perturbation(
    policy: nn.Module, obs: Obs, scale: float, draws: int = 8, seed: int = 0
) -> Attribution:
    """Perturbation attribution of ``policy``'s mean action on the batch ``obs`` of one robot:
    for each joint slot and each stream in turn, Gaussian noise of standard deviation ``scale``
    (observation units: joint-state rows lie in [-1, 1], positions are in metres) on its inputs
    alone; the mean over ``draws`` draws (seeded by ``seed``) of the absolute change of
    the mean action, summed over the robot's action slots."""
    generator = torch.Generator().manual_seed(seed)
    slots = action_mask(obs)
    base = policy(obs).mean
    batch, joints = obs["joint_state"].shape[:2]

    def change(keys: tuple[str, ...], joint: int | None = None) -> torch.Tensor:
        total = torch.zeros(batch)
        if not keys:  # a stream no robot of this env has
            return total
        for _ in range(draws):
            noisy = dict(obs)
            for key in keys:
                x = obs[key].clone()
                target = x if joint is None else x[:, joint]
                target += scale * torch.randn(target.shape, generator=generator)
                noisy[key] = x
            total += ((policy(noisy).mean - base).abs() * slots).sum(1)
        return total / draws

    per_joint = torch.stack([change(("joint_state",), j) for j in range(joints)], dim=1)
    per_stream = {name: change(tuple(k for k in STREAM_KEYS[name] if k in obs)) for name in STREAMS}
    return _masked(obs, per_joint, per_stream)


def figure(
    robots: list[str],
    results: list[Attribution],
    title: str = "what drives the action: share of |gradient x input|",
) -> Figure:
    """One row per robot: each joint's and each stream's share of its attribution."""
    joints = len(results[0].joints)
    columns = [f"joint {j}" for j in range(joints)] + list(STREAMS)
    grid = np.stack([r.shares() for r in results])
    labels = [short_name(r) for r in robots]
    label_width = 0.075 * max(len(s) for s in labels)
    fig, ax = plt.subplots(
        figsize=(2.5 + label_width + 0.55 * len(columns), 1.6 + 0.3 * len(labels)),
        layout="constrained",
    )
    image = ax.imshow(grid, cmap="viridis", vmin=0.0, aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.axvline(joints - 0.5, color="white", lw=1.5)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="share")
    return fig
