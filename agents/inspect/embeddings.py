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

import numpy as np
import torch
from deepwe_rl.agents.inspect.model import RobotObs
from torch.utils.tensorboard import SummaryWriter

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
