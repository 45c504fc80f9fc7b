"""A picture of every robot: step each through a few random actions and tile the renders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from deepwe_rl.envs.vector import make_env


def save_gallery(path: Path, robots: Sequence[str], steps: int = 10, size: int = 240) -> Path:
    """Reset each robot on Reach, take ``steps`` random actions, and save a grid of renders,
    each framed to the robot's size (how far its end effector is from its base at home)."""
    cols = min(6, len(robots))
    rows = -(-len(robots) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, robot in zip(axes.ravel(), robots, strict=False):
        env = make_env("reach", robot)
        obs, _ = env.reset(seed=0)
        ee = obs["achieved_goal"]  # at home: how far the end effector is from the base
        scale = max(float(np.linalg.norm(ee)), 0.25)
        env.action_space.seed(0)
        for _ in range(steps):
            obs, *_ = env.step(env.action_space.sample())
        frame = env.unwrapped.sim.render_rgb(
            size, size, target=np.array([0.5, 0.0, 0.5]) * scale, distance=2.5 * scale
        )
        ax.imshow(frame)
        ax.set_title(f"{robot} ({int(obs['joint_mask'].sum())} joints)", fontsize=8)
        env.close()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    import sys

    from deepwe_rl.envs.robots.catalog import catalog_names

    out = save_gallery(Path(sys.argv[1] if len(sys.argv) > 1 else "gallery.png"), catalog_names())
    print(f"saved {out}")
