"""Robot and joint embeddings of a DeepWe network, and TensorBoard's embedding projector.

The robot embedding is the descriptor encoder's ``m`` (``MorphologyEncoder``: one ReLU layer
over the masked mean of the joint embeddings and the has-gripper flag), the vector every
generated weight and the FiLM modulation are conditioned on. A joint embedding is the encoder's
``e_j``, one ReLU layer over joint j's descriptor row. Both depend on the descriptors alone,
so robots the run never trained on get them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch.utils.tensorboard import SummaryWriter

from deepwe_rl.agents.inspect.model import RobotObs
from deepwe_rl.agents.robots import short_name
from deepwe_rl.nn.deepwe import DeepWeNet
from deepwe_rl.nn.grouping import morphology_rows, split_rows

ROBOT_COLUMNS = ["name", "joints", "category", "gripper", "reach_m"]
JOINT_COLUMNS = ["robot", "joint", "axis"]
LINK_LENGTH = 6
"""Column of a descriptor row holding the length of the link the joint drives (metres)."""


@dataclass(frozen=True)
class Embeddings:
    """``robots`` (R, E), one row per robot with ``robot_meta`` rows of ``ROBOT_COLUMNS``;
    ``joints`` (N, E), one row per real joint of every robot, with ``joint_meta`` rows of
    ``JOINT_COLUMNS``."""

    robots: np.ndarray
    robot_meta: list[list[str]]
    joints: np.ndarray
    joint_meta: list[list[str]]


def morphology(obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first sample's descriptors (1, J, D), joint mask (1, J) and gripper flag (1, 1),
    as the network reads them."""
    return split_rows(morphology_rows({k: v[:1] for k, v in obs.items()}))


def axis_kind(axis: np.ndarray) -> str:
    """The direction of a joint axis in the base frame at zero pose: ``x``, ``y`` or ``z``
    when within about 25 degrees of that axis (either sign), else ``oblique``."""
    a = np.abs(axis) / max(float(np.linalg.norm(axis)), 1e-9)
    best = int(np.argmax(a))
    return "xyz"[best] if a[best] > 0.9 else "oblique"


@torch.no_grad()
def embeddings(net: DeepWeNet, robots: list[RobotObs]) -> Embeddings:
    """The robot embedding ``m`` and joint embeddings ``e_j`` of every robot, with metadata."""
    robot_rows, joint_rows, robot_meta, joint_meta = [], [], [], []
    for robot in robots:
        desc, mask, gripper = morphology(robot.obs)
        e, m = net.morphology(desc, mask, gripper)
        real = int(mask.sum())
        d = desc[0].numpy()
        robot_rows.append(m[0].numpy())
        joint_rows.append(e[:real].numpy())
        reach = float(d[:real, LINK_LENGTH].sum())
        robot_meta.append(
            [
                robot.name,
                str(real),
                robot.category,
                "yes" if gripper.item() > 0.5 else "no",
                f"{reach:.3f}",
            ]
        )
        joint_meta += [[robot.name, str(j), axis_kind(d[j, 3:6])] for j in range(real)]
    return Embeddings(np.stack(robot_rows), robot_meta, np.concatenate(joint_rows), joint_meta)


def write_projector(writer: SummaryWriter, emb: Embeddings) -> None:
    """Both embeddings into ``writer``'s log directory as projector data (tensors, metadata
    and ``projector_config.pbtxt``), through the writer's own ``add_embedding``."""
    writer.add_embedding(
        torch.as_tensor(emb.robots),
        metadata=emb.robot_meta,
        metadata_header=ROBOT_COLUMNS,
        tag="robot_embedding",
    )
    writer.add_embedding(
        torch.as_tensor(emb.joints),
        metadata=emb.joint_meta,
        metadata_header=JOINT_COLUMNS,
        tag="joint_embedding",
    )


def embedding_files(folder: Path) -> list[Path]:
    """The projector files under ``folder``."""
    return sorted(p for p in folder.rglob("*") if p.suffix in (".tsv", ".pbtxt"))


def robot_pca(emb: Embeddings) -> dict:
    """The robot embeddings projected on their first two principal components (centred over
    the robots given): per robot its name, joints, category and coordinates, and the share of
    the variance each component explains."""
    centred = emb.robots - emb.robots.mean(0)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    variance = sing**2
    explained = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return {
        "explained_variance_ratio": [round(float(v), 4) for v in explained],
        "robots": [
            {
                "name": meta[0],
                "joints": int(meta[1]),
                "category": meta[2],
                "pc1": round(float(x), 5),
                "pc2": round(float(y), 5),
            }
            for meta, (x, y) in zip(emb.robot_meta, coords, strict=True)
        ],
    }


def _label_positions(points: list[tuple[float, float]], widths: list[float]) -> list[float]:
    """Heights (axes fractions) for labels right of ``points`` (axes fractions) of ``widths``,
    top to bottom, each moved down until it overlaps no label placed before it."""
    line = 0.032
    placed: list[tuple[float, float, float]] = []
    heights = [0.0] * len(points)
    for i in sorted(range(len(points)), key=lambda i: -points[i][1]):
        x, y = points[i][0] + 0.012, points[i][1]
        while any(
            abs(y - py) < line and x < px + pw and px < x + widths[i] for px, py, pw in placed
        ):
            y -= line
        placed.append((x, y, widths[i]))
        heights[i] = y
    return heights


def pca_figure(pca: dict) -> Figure:
    """``robot_pca``'s plane: one point per robot, coloured by category, labelled with its
    name and joint count (labels stacked so that none overlaps another, with a line to the
    point when moved)."""
    fig, ax = plt.subplots(figsize=(8.5, 6.5), layout="constrained")
    robots = pca["robots"]
    for i, name in enumerate(dict.fromkeys(r["category"] for r in robots)):
        mine = [r for r in robots if r["category"] == name]
        ax.scatter([r["pc1"] for r in mine], [r["pc2"] for r in mine], label=name, color=f"C{i}")
    xs, ys = [r["pc1"] for r in robots], [r["pc2"] for r in robots]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    ax.set_xlim(min(xs) - 0.05 * span_x, max(xs) + 0.35 * span_x)
    ax.set_ylim(min(ys) - 0.35 * span_y, max(ys) + 0.08 * span_y)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    points = [((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)) for x, y in zip(xs, ys, strict=True)]
    labels = [f"{short_name(r['name'])} ({r['joints']}j)" for r in robots]
    heights = _label_positions(points, [0.0095 * len(label) for label in labels])
    for label, (x, y), height in zip(labels, points, heights, strict=True):
        moved = abs(height - y) > 1e-9
        ax.annotate(
            label,
            (x, y),
            xycoords="axes fraction",
            xytext=(x + 0.012 + (0.02 if moved else 0.0), height),
            textcoords="axes fraction",
            fontsize=7,
            va="center",
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"} if moved else None,
        )
    pc1, pc2 = pca["explained_variance_ratio"]
    ax.set_xlabel(f"PC 1 ({pc1:.0%} of the variance)")
    ax.set_ylabel(f"PC 2 ({pc2:.0%} of the variance)")
    ax.set_title("robot embeddings, first two principal components", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return fig
