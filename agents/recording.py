"""Videos of a policy on one robot."""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.evaluation import Policy
from deepwe_rl.config import EnvSection

FPS = 25


def record_video(
    env_cfg: EnvSection, robot: str, policy: Policy, out: Path, episodes: int = 1, seed: int = 0
) -> int:
    """Run ``episodes`` deterministic episodes on ``robot`` and write them as one MP4 or GIF.
    Returns the number of frames written."""
    env = single_env(env_cfg, robot, render_mode="rgb_array")
    frames: list[np.ndarray] = []
    try:
        for k in range(episodes):
            obs, _ = env.reset(seed=seed + k)
            frames.append(env.render())
            done = False
            while not done:
                batch = {key: value[None] for key, value in obs.items()}
                obs, _, terminated, truncated, _ = env.step(policy(batch)[0])
                frames.append(env.render())
                done = terminated or truncated
    finally:
        env.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        imageio.mimsave(out, frames, duration=1000 / FPS, loop=0)
    else:
        imageio.mimsave(out, frames, fps=FPS, macro_block_size=1)
    return len(frames)
