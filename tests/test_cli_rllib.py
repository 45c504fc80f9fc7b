"""The deepwe-rl command end to end with the RLlib backend, as a user runs it: real
subprocesses started in a working directory that holds the config and the run, with relative
paths (RLlib reads paths as URIs, to which ``runs/x`` is not a path)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from deepwe_rl.config import dump_config, load_config
from tests.cli_runs import ROOT, only_run, run_cli

pytestmark = pytest.mark.slow

TINY = [
    "total_timesteps=200",
    "env.robots=[panda,proc:3:0]",
    "env.max_episode_steps=20",
    "env.distance_threshold=0.001",  # episodes end by truncation only: 100 steps an iteration
    "network.hidden=32",
    "network.desc_embed=8",
    "network.hyper_hidden=16",
    "network.stem_width=8",
    "algo.n_steps=50",
    "algo.batch_size=50",
    "algo.n_epochs=1",
    "eval.freq=0",
    "checkpoint.freq=100",
    "ray.envs_per_runner=2",
]
"""``configs/rllib_ppo.yaml`` made tiny: 1 env runner with 2 sub-envs, 2 iterations of 100 env
steps, a checkpoint after each. Its ``runs_dir`` stays the default, ``runs``."""


def test_train_eval_resume_with_relative_paths(tmp_path: Path) -> None:
    """``train configs/rllib_ppo.yaml`` into ``runs/``, then ``eval`` and ``resume`` given the
    run as ``runs/<run>``, and ``eval`` given it as ``~/runs/<run>``."""
    (tmp_path / "configs").mkdir()
    shutil.copy(ROOT / "configs/rllib_ppo.yaml", tmp_path / "configs")

    trained = run_cli("train", "configs/rllib_ppo.yaml", *TINY, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    run = only_run(tmp_path / "runs")
    relative = str(run.relative_to(tmp_path))
    assert (run / "rllib_checkpoint").is_dir()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step_000000100",
        "step_000000200",
    ]

    evaluated = run_cli("eval", relative, "--episodes", "1", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    [written] = (run / "eval").glob("cli-*.json")
    assert set(json.loads(written.read_text())["robots"]) == {"panda", "proc:3:0"}

    # Resume from the step-200 checkpoint to 300 steps: the config in the run is the one it uses.
    config = run / "config.yaml"
    config.write_text(dump_config(load_config(config, ["total_timesteps=300"])))
    resumed = run_cli("resume", relative, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (run / "checkpoints" / "step_000000300").is_dir()

    home = run_cli(
        "eval",
        f"~/{relative}",
        "--episodes",
        "1",
        cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert home.returncode == 0, home.stderr
    assert len(list((run / "eval").glob("cli-*.json"))) == 2
