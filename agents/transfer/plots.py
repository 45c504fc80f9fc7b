"""The transfer figures: a robot x condition success heatmap and fine-tuning curves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from deepwe_rl.agents.robots import short_name
from deepwe_rl.agents.transfer.results import TransferResult


def heatmap(result: TransferResult) -> Figure:
    """Success rate per robot (rows, grouped by category) and condition (columns: zero-shot,
    and after fine-tuning from the trained weights or from scratch where measured)."""
    summary = result.finetune_summary()
    columns = ["zero-shot"]
    if summary:
        columns += [f"fine-tuned {result.finetune_steps}", f"scratch {result.finetune_steps}"]
    grid = np.full((len(result.zero_shot), len(columns)), np.nan)
    labels = []
    for i, z in enumerate(result.zero_shot):
        labels.append(f"{z.category} · {short_name(z.robot)}")
        grid[i, 0] = z.success_rate
        for j, condition in enumerate(("finetuned", "scratch"), start=1):
            s = summary.get(z.robot, {}).get(condition)
            if s is not None:
                grid[i, j] = s.final_success
    # Room for the longest label (about 0.075 in per character at the default size), and a
    # constrained layout, which sizes the margins to the labels and title instead of cropping.
    label_width = 0.075 * max((len(s) for s in labels), default=4)
    fig, ax = plt.subplots(
        figsize=(2.5 + label_width + 1.6 * len(columns), 1.4 + 0.32 * len(labels)),
        layout="constrained",
    )
    image = ax.imshow(np.ma.masked_invalid(grid), vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(labels)), labels)
    for (i, j), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                color="black" if value > 0.6 else "white",
                fontsize=8,
            )
    fig.colorbar(image, ax=ax, label="success rate")
    ax.set_title(f"{result.network}: success by robot and condition")
    return fig


def finetune_curves(result: TransferResult) -> Figure:
    """Per held-out robot, eval success against env steps: the mean over seeds of fine-tuning
    from the trained weights and of training from scratch, with the seeds' range shaded."""
    robots = list(dict.fromkeys(c.robot for c in result.curves))
    cols = min(3, len(robots))
    rows = -(-len(robots) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.0 * rows), squeeze=False)
    for ax, robot in zip(axes.flat, robots, strict=False):
        for condition, colour in (("finetuned", "tab:blue"), ("scratch", "tab:grey")):
            runs = [c for c in result.curves if c.robot == robot and c.condition == condition]
            if not runs:
                continue
            steps = runs[0].steps
            values = np.array([c.success for c in runs if c.steps == steps])
            ax.plot(steps, values.mean(0), color=colour, label=condition, marker="o", ms=3)
            ax.fill_between(steps, values.min(0), values.max(0), color=colour, alpha=0.2)
        ax.axhline(result.target, color="tab:red", lw=0.8, ls="--")
        ax.set_title(robot, fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("env steps")
        ax.set_ylabel("eval success")
    for ax in list(axes.flat)[len(robots) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
