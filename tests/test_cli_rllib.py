"""The deepwe-rl command end to end with the RLlib backend, as a user runs it: real
subprocesses started in a working directory that holds the config and the run, with relative
paths (RLlib reads paths as URIs, to which ``runs/x`` is not a path), and a console that holds
deepwe_rl's lines, not Ray's, unless ``--verbose`` asks for them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepwe_rl.config import dump_config, load_config
from tests.cli_runs import (
    CLI,
    ROOT,
    assert_reports_last_eval,
    layout_charts,
    only_run,
    resume_hint,
    run_cli,
    user_dir,
)
from tests.ray_faults import assert_killed

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
    "eval.freq=200",
    "eval.episodes=1",
    "checkpoint.freq=100",
    "ray.envs_per_runner=2",
]
"""``configs/rllib_ppo.yaml`` made tiny: 1 env runner with 2 sub-envs, 2 iterations of 100 env
steps, a checkpoint after each. Its ``runs_dir`` stays the default, ``runs``."""

RAY_LINE = re.compile(
    "|".join(
        [
            r"^\d{4}-\d\d-\d\d [\d:,]+\t[A-Z]+ \S+:\d+ -- ",  # Ray's and RLlib's Python loggers
            r"^\[\d{4}-\d\d-\d\d [\d:,]+ [DIWEF] \d+ \d+\]",  # Ray's C++ core
            r"core_worker\.cc",
            r"RLModuleConfig|DeprecationWarning",
            r"gputil",
            r"\((raylet|\w+ pid=\d+)\)",  # a worker's output forwarded, behind its prefix
            r"A worker died or was killed",
            r"^NoneType: None$",  # what RLlib's logger.exception adds outside an exception
        ]
    )
)
"""Lines that Ray, RLlib or their workers wrote, as opposed to deepwe_rl."""


def ray_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of the command's stdout and stderr that Ray wrote (``RAY_LINE``)."""
    return [line for line in (result.stdout + result.stderr).splitlines() if RAY_LINE.search(line)]


@dataclass(frozen=True)
class Trained:
    work: Path
    """The user's working directory."""
    run: str
    """The run directory, relative to ``work``."""
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """``deepwe-rl train configs/rllib_ppo.yaml`` (tiny) in a user's working directory."""
    work = user_dir(tmp_path_factory.mktemp("user"), "rllib_ppo.yaml")
    result = run_cli("train", "configs/rllib_ppo.yaml", *TINY, cwd=work)
    assert result.returncode == 0, result.stderr
    return Trained(work, str(only_run(work / "runs").relative_to(work)), result)


def test_train_writes_the_run_and_no_ray_lines(trained: Trained) -> None:
    run = trained.work / trained.run
    assert trained.run.startswith("runs/rllib_ppo-")
    assert (run / "config.yaml").is_file() and (run / "rllib_checkpoint").is_dir()
    assert any((run / "tb").glob("events.out.tfevents.*"))
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step_000000100",
        "step_000000200",
    ]
    assert "trained 200 steps in" in trained.result.stdout
    assert_reports_last_eval(trained.result.stdout, run, ["panda", "proc:3:0"])
    assert "eval, per robot" in layout_charts(run / "tb")["success"]
    assert f"watch: tensorboard --logdir {trained.run}/tb" in trained.result.stdout
    assert ray_lines(trained.result) == [], trained.result.stdout + trained.result.stderr


def test_eval_with_relative_and_home_paths(trained: Trained) -> None:
    """``eval runs/<run>``, and ``eval ~/runs/<run>`` with the working directory as home."""
    evaluated = run_cli("eval", trained.run, "--episodes", "1", cwd=trained.work)
    assert evaluated.returncode == 0, evaluated.stderr
    assert ray_lines(evaluated) == [], evaluated.stderr  # RLlib's RLModuleConfig warning
    [written] = (trained.work / trained.run / "eval").glob("cli-*.json")
    assert set(json.loads(written.read_text())["robots"]) == {"panda", "proc:3:0"}

    home = run_cli(
        "eval",
        f"~/{trained.run}",
        "--episodes",
        "1",
        cwd=trained.work,
        env={**os.environ, "HOME": str(trained.work)},
    )
    assert home.returncode == 0, home.stderr
    assert len(list((trained.work / trained.run / "eval").glob("cli-*.json"))) == 2


def test_record_and_transfer_with_relative_paths(trained: Trained) -> None:
    recorded = run_cli(
        "record", trained.run, "--robot", "proc:3:0", "--out", "videos/arm.gif", cwd=trained.work
    )
    assert recorded.returncode == 0, recorded.stderr
    assert (trained.work / "videos/arm.gif").stat().st_size > 10_000
    assert "wrote videos/arm.gif (21 frames)" in recorded.stdout  # one 20-step episode

    moved = run_cli(
        "transfer", trained.run, "--robots", "panda,proc:2:0", "--episodes", "1", cwd=trained.work
    )
    assert moved.returncode == 0, moved.stderr
    folder = trained.work / trained.run / "transfer"
    for name in ("transfer.json", "transfer.csv", "transfer.md", "heatmap.png"):
        assert (folder / name).stat().st_size > 0, name
    rows = json.loads((folder / "transfer.json").read_text())["zero_shot"]
    assert [(row["robot"], row["category"], row["episodes"]) for row in rows] == [
        ("panda", "train", 1),
        ("proc:2:0", "other", 1),
    ]
    assert ray_lines(recorded) == [] and ray_lines(moved) == []


def test_inspect_with_a_relative_path(trained: Trained) -> None:
    """``inspect runs/<run>`` on the RLlib run: the projector's embeddings tensor, metadata
    with a held-out robot and plugin config, in ``RUN/inspect`` and in the run's TensorBoard.
    (The distance-to-success scatter, which needs a transfer first, is tested on an SB3 run.)"""
    result = run_cli("inspect", trained.run, cwd=trained.work)
    assert result.returncode == 0, result.stderr
    run = trained.work / trained.run
    for folder in (run / "inspect", run / "tb" / "inspect"):
        config = (folder / "projector_config.pbtxt").read_text()
        assert "robot_embedding" in config and "joint_embedding" in config
        robot_dir = next(folder.rglob("robot_embedding"))
        rows = (robot_dir / "tensors.tsv").read_text().splitlines()
        meta = [line.split("\t") for line in (robot_dir / "metadata.tsv").read_text().splitlines()]
        assert len(rows) == len(meta) - 1 > 2
        categories = {row[0]: row[2] for row in meta[1:]}
        assert categories["panda"] == "train" and categories["proc:3:0"] == "train"
        assert categories["xarm6"] == "real-heldout"
    assert f"view: tensorboard --logdir {trained.run}/tb" in result.stdout
    assert ray_lines(result) == [], result.stdout + result.stderr


def wait_for_checkpoint(proc: subprocess.Popen[str], runs: Path) -> None:
    """Until the run in ``runs`` has saved a periodic checkpoint; fails if the command ends
    first."""
    deadline = time.monotonic() + 300
    while not any(runs.glob("*/checkpoints/step_*")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.5)


def test_interrupt_then_resume_verbose(tmp_path: Path) -> None:
    """Ctrl-C after the first checkpoint: exit 130 and the resume command to type; that command,
    with ``--verbose``, finishes the run and shows Ray's own lines."""
    work = user_dir(tmp_path, "rllib_ppo.yaml")
    long_run = [a for a in TINY if not a.startswith("total_timesteps")] + ["total_timesteps=100000"]
    proc = subprocess.Popen(
        [*CLI, "train", "configs/rllib_ppo.yaml", *long_run],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_checkpoint(proc, work / "runs")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    interrupted = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert proc.returncode == 130, stderr
    assert "checkpoint saved to runs/" in stderr and "Traceback" not in stderr
    assert ray_lines(interrupted) == [], stderr
    run = resume_hint(stderr)
    assert run == str(only_run(work / "runs").relative_to(work))

    steps = sorted(
        int(p.name.removeprefix("step_")) for p in (work / run / "checkpoints").iterdir()
    )
    config = work / run / "config.yaml"
    config.write_text(dump_config(load_config(config, [f"total_timesteps={steps[-1] + 100}"])))
    resumed = run_cli("resume", run, "--verbose", cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    assert (work / run / "checkpoints" / f"step_{steps[-1] + 100:09d}").is_dir()
    assert (work / run / "rllib_checkpoint").is_dir()
    assert f"resuming from {run}/checkpoints/step_{steps[-1]:09d}" in resumed.stderr
    assert "Started a local Ray instance" in resumed.stderr
    assert any("core_worker.cc" in line for line in ray_lines(resumed)), resumed.stderr


def test_a_restarted_env_runner_shows_on_a_quiet_console(tmp_path: Path) -> None:
    """``train`` with 2 env runners, one killed after the first checkpoint
    (``tests.ray_faults``): the console says that it failed and that RLlib restarted it, in
    deepwe_rl's lines, and holds no line of Ray's."""
    work = user_dir(tmp_path, "rllib_ppo.yaml")
    changed = ("total_timesteps", "algo.n_steps", "checkpoint.", "ray.envs_per_runner")
    args = [a for a in TINY if not a.startswith(changed)] + [
        "total_timesteps=300",
        "algo.n_steps=25",  # 2 runners x 1 sub-env x 25: 50 steps an iteration
        "checkpoint.freq=50",
        "checkpoint.keep=1",
        "ray.num_env_runners=2",
        "ray.envs_per_runner=1",
        "ray.num_cpus=3",
    ]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.ray_faults",
            "runs",
            "train",
            "configs/rllib_ppo.yaml",
            *args,
        ],
        cwd=work,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert_killed(work / "runs", "env runner")
    assert re.search(r"^1 of 2 env runners failed at step \d+", result.stderr, re.M), result.stderr
    assert re.search(r"^RLlib restarted 1 env runner\(s\) by step \d+", result.stderr, re.M)
    assert ray_lines(result) == [], result.stdout + result.stderr
    assert "trained 300 steps" in result.stdout
    [run] = [p for p in (work / "runs").iterdir() if p.is_dir()]  # beside it: killed.pid
    assert (run / "checkpoints" / "step_000000300").is_dir()
