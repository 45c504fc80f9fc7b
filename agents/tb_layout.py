"""The TensorBoard custom-scalars layout every run writes: every robot's curves on one chart.

TensorBoard's Scalars tab gives each tag a card of its own, so a run with many robots shows their
success curves scattered over dozens of cards. The layout's charts gather tags by regular
expression (whatever robots the run has), under the Custom Scalars tab:

- success: every robot's eval success, every robot's rollout success, the overall figures;
- return: per robot, for eval and rollouts;
- losses: RL's and behaviour cloning's.
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

ROBOT = r"[^/]+"
"""A robot's name in a tag (``eval/<robot>/success_rate``)."""

LAYOUT: dict[str, dict[str, list[object]]] = {
    "success": {
        "eval, per robot": ["Multiline", [rf"^eval/{ROBOT}/success_rate$"]],
        "rollout, per robot": ["Multiline", [rf"^rollout/{ROBOT}/success_rate$"]],
        "overall": ["Multiline", [r"^(eval|rollout|demonstrations)/success(_rate)?$"]],
    },
    "return": {
        "eval, per robot": ["Multiline", [rf"^eval/{ROBOT}/return$"]],
        "rollout, per robot": ["Multiline", [rf"^rollout/{ROBOT}/return$"]],
    },
    "losses": {
        "RL": ["Multiline", [r"^train/.*loss$"]],
        "behaviour cloning": ["Multiline", [r"^demonstrations/.*_loss$"]],
    },
}


def write_layout(tb: Path) -> None:
    """Write ``LAYOUT`` into the run's TensorBoard folder, in an event file of its own."""
    writer = SummaryWriter(str(tb), filename_suffix=".layout")
    try:
        writer.add_custom_scalars(LAYOUT)
    finally:
        writer.close()
