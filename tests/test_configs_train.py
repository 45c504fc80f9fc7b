"""Every file in configs/ loads and trains for a few hundred steps through the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
SHRINK = {
    "sb3": [
        "total_timesteps=300",
        "env.n_envs=2",
        "algo.n_steps=64",
        "algo.batch_size=64",
        "algo.n_epochs=1",
        "algo.learning_starts=100",
        "eval.freq=0",
        "checkpoint.freq=0",
    ],
    "rllib": [
        "total_timesteps=300",
        "algo.n_steps=64",
        "algo.batch_size=64",
        "algo.n_epochs=1",
        "eval.freq=0",
        "checkpoint.freq=0",
        "ray.num_env_runners=1",
        "ray.envs_per_runner=2",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_trains(config: Path, tmp_path: Path) -> None:
    text = config.read_text()
    backend = "rllib" if "backend: rllib" in text else "sb3"
    demonstrations = (
        ["demonstrations.episodes=2", "demonstrations.dagger_episodes=2", "demonstrations.epochs=1"]
        if "demonstrations:" in text
        else []
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepwe_rl.cli",
            "train",
            str(config),
            *SHRINK[backend],
            *demonstrations,
            "network.hidden=64",
            f"runs_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = tmp_path.iterdir()
    final = run / ("model.zip" if backend == "sb3" else "rllib_checkpoint")
    assert final.exists()
