"""The weights DeepWe's hypernetwork generates per robot: heat maps, and robot-by-robot
similarity in weight space beside similarity of the descriptors.

A robot's *weight vector*, used for similarity and distance, is the mean over its real joints
of each joint's generated input code and output layer, side by side: one vector of the same
length for every robot, whatever its joint count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from deepwe_rl.agents.inspect.embeddings import morphology
from deepwe_rl.agents.inspect.model import RobotObs
from deepwe_rl.agents.robots import short_name
from deepwe_rl.nn.deepwe import DeepWeNet


@dataclass(frozen=True)
class RobotWeights:
    """One robot's generated weights over its real joints: ``code`` (joints, (S + 1) * C)
    input codes and ``out`` (joints, k * (F + 1)) output layers (None for a network without
    per-joint outputs); ``descriptor`` its descriptor summary (mean descriptor row, gripper
    flag, joint count / 8)."""

    name: str
    category: str
    code: np.ndarray
    out: np.ndarray | None
    descriptor: np.ndarray

    @property
    def vector(self) -> np.ndarray:
        """The robot's weight vector: mean over joints of code and output rows."""
        parts = [self.code.mean(0)] + ([] if self.out is None else [self.out.mean(0)])
        return np.concatenate(parts)


@torch.no_grad()
def generated_weights(net: DeepWeNet, robot: RobotObs) -> RobotWeights:
    """What ``net``'s hypernetwork generates for ``robot``."""
    desc, mask, gripper = morphology(robot.obs)
    e, m = net.morphology(desc, mask, gripper)
    gen = net.generator(e, m, mask)
    real = int(mask.sum())
    summary = np.concatenate(
        [desc[0, :real].mean(0).numpy(), gripper[0].numpy(), np.array([real / 8.0])]
    )
    out = None if gen.out is None else gen.out[:real].numpy()
    return RobotWeights(robot.name, robot.category, gen.code[:real].numpy(), out, summary)


def cosine_matrix(rows: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair of ``rows`` (R, D) after subtracting their mean row, so
    that what all robots share does not make every pair look alike; (R, R)."""
    centred = rows - rows.mean(0, keepdims=True)
    norm = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = centred / np.maximum(norm, 1e-12)
    return np.clip(unit @ unit.T, -1.0, 1.0)


def _label_inches(labels: list[str]) -> float:
    """Room for the longest of ``labels`` at 8 pt, in inches."""
    return 0.3 + 0.075 * max((len(s) for s in labels), default=4)


def _matrix(ax: plt.Axes, fig: Figure, grid: np.ndarray, labels: list[str], title: str) -> None:
    image = ax.imshow(grid, vmin=-1.0, vmax=1.0, cmap="coolwarm")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")


def heatmap(robots: list[RobotWeights]) -> Figure:
    """Generated input codes (left) and output layers (right), one row per joint, for each of
    ``robots`` one above the other (one robot, or two side by side in rows)."""
    panels = 1 if robots[0].out is None else 2
    heights = [max(1, r.code.shape[0]) for r in robots]
    fig, axes = plt.subplots(
        len(robots),
        panels,
        figsize=(5.5 * panels + 1.0, 1.2 + 0.9 * len(robots) + 0.3 * sum(heights)),
        squeeze=False,
        layout="constrained",
        height_ratios=heights,
    )
    for row, r in zip(axes, robots, strict=True):
        shown = [(r.code, "input codes")] + ([] if r.out is None else [(r.out, "output layers")])
        for ax, (values, what) in zip(row, shown, strict=True):
            limit = float(np.abs(values).max()) or 1.0
            image = ax.imshow(values, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
            ax.set_yticks(range(values.shape[0]), [f"joint {j}" for j in range(len(values))])
            ax.set_xlabel("generated entry", fontsize=8)
            ax.set_title(f"{short_name(r.name)} ({r.category}): {what}", fontsize=9)
            fig.colorbar(image, ax=ax, shrink=0.9)
    return fig


def similarity(robots: list[RobotWeights]) -> tuple[Figure, np.ndarray, np.ndarray]:
    """The weight-space and descriptor cosine-similarity matrices (R, R) of ``robots``, and a
    figure with both side by side."""
    weights = cosine_matrix(np.stack([r.vector for r in robots]))
    descriptors = cosine_matrix(np.stack([r.descriptor for r in robots]))
    labels = [short_name(r.name) for r in robots]
    side = 1.5 + 0.28 * len(labels) + _label_inches(labels)
    fig, axes = plt.subplots(1, 2, figsize=(2 * side + 1.5, side), layout="constrained")
    _matrix(axes[0], fig, weights, labels, "generated weights")
    _matrix(axes[1], fig, descriptors, labels, "joint descriptors")
    fig.suptitle("robot-by-robot similarity (centred over these robots)", fontsize=11)
    return fig, weights, descriptors


def nearest_training_distance(robots: list[RobotWeights], training: list[RobotWeights]) -> dict:
    """Per robot, the Euclidean distance of its weight vector to the nearest training robot's
    (zero for a training robot)."""
    train = np.stack([t.vector for t in training])
    return {r.name: float(np.linalg.norm(train - r.vector, axis=1).min()) for r in robots}


def transfer_scatter(distance: dict[str, float], transfer_json: Path) -> Figure | None:
    """Zero-shot success (from ``transfer.json``) against weight-space distance to the nearest
    training robot, for the robots in both; None when none is in both."""
    rows = json.loads(transfer_json.read_text())["zero_shot"]
    points = [(distance[z["robot"]], z["success_rate"], z) for z in rows if z["robot"] in distance]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    categories = list(dict.fromkeys(z["category"] for _, _, z in points))
    for i, name in enumerate(categories):
        mine = [(d, s) for d, s, z in points if z["category"] == name]
        ax.scatter(*zip(*mine, strict=True), label=name, color=f"C{i}")
    for d, s, z in points:
        ax.annotate(
            short_name(z["robot"]), (d, s), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel("weight-space distance to the nearest training robot")
    ax.set_ylabel("zero-shot success rate")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=8)
    return fig
