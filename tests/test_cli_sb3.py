"""The deepwe-rl command end to end with the SB3 backend, as a user runs it: real subprocesses
started in a working directory that holds the config and the run, relative paths, real
training, TensorBoard files read back with tensorboard's own reader and its server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cli_runs import (
    CLI,
    TINY,
    assert_reports_last_eval,
    layout_charts,
    only_run,
    resume_hint,
    run_cli,
    scalar_tags,
    tensorboard_server,
    user_dir,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``deepwe-rl train configs/quickstart.yaml`` (tiny) in a user's working directory, into
    its default ``runs/``; the run directory."""
    work = user_dir(tmp_path_factory.mktemp("user"), "quickstart.yaml")
    result = run_cli("train", "configs/quickstart.yaml", *TINY, cwd=work)
    assert result.returncode == 0, result.stderr
    (work / "train.out").write_text(result.stdout)
    return only_run(work / "runs")


def where(run: Path) -> tuple[Path, str]:
    """The working directory that holds ``run`` (in its ``runs/``), and ``run`` relative to
    it, as a user types it there."""
    work = run.parent.parent
    return work, str(run.relative_to(work))


def test_train_writes_the_run_directory(trained: Path) -> None:
    assert (trained / "config.yaml").is_file()
    assert (trained / "model.zip").is_file()
    last = sorted(p.name for p in (trained / "checkpoints").iterdir())[-1]
    assert 600 <= int(last.removeprefix("step_").removesuffix(".zip")) < 600 + 128  # whole rollouts
    evals = sorted((trained / "eval").glob("eval_*.json"))
    assert evals and set(json.loads(evals[-1].read_text())["robots"]) == {"panda", "proc:2:0"}
    resolved = (trained / "config.yaml").read_text()
    assert "total_timesteps: 600" in resolved and "hidden: 64" in resolved


def test_custom_scalars_layout_gathers_every_robot(trained: Path) -> None:
    charts = layout_charts(trained / "tb")
    assert charts["success"] == ["eval, per robot", "rollout, per robot", "overall"]
    assert set(charts) == {"success", "return", "losses"}


def test_console_ends_with_the_last_evaluation(trained: Path) -> None:
    stdout = (trained.parent.parent / "train.out").read_text()
    assert_reports_last_eval(stdout, trained, ["panda", "proc:2:0"])


def test_tensorboard_scalars_read_back(trained: Path) -> None:
    tags = scalar_tags(trained / "tb")
    for tag in (
        "rollout/success_rate",
        "rollout/return",
        "rollout/episode_length",
        "rollout/panda/success_rate",
        "rollout/proc:2:0/return",
        "eval/success_rate",
        "eval/panda/success_rate",
        "eval/proc:2:0/episode_length",
        "train/policy_loss",
        "train/value_loss",
        "train/entropy",
        "time/fps",
    ):
        assert tag in tags, f"{tag} missing from {sorted(tags)}"
    assert max(step for step, _ in tags["time/fps"]) >= 512
    hparams = list((trained / "tb").rglob("events.out.tfevents.*"))
    assert any(b"hparams" in p.read_bytes() for p in hparams)


def test_tensorboard_server_lists_the_run_tags_and_layout(trained: Path) -> None:
    with tensorboard_server(trained / "tb") as get:
        deadline, tags = time.time() + 60, None
        while time.time() < deadline and "eval/success_rate" not in json.dumps(tags):
            time.sleep(1)
            tags = get("plugin/scalars/tags")
        listed = {tag for run in (tags or {}).values() for tag in run}
        assert {"eval/success_rate", "rollout/panda/success_rate", "time/fps"} <= listed
        plugins: dict[str, dict[str, object]] = {}
        while time.time() < deadline and not plugins.get("custom_scalars", {}).get("enabled"):
            time.sleep(1)
            plugins = get("plugins_listing") or {}
        assert plugins["custom_scalars"]["enabled"], plugins


def test_eval_prints_table_and_writes_json(trained: Path) -> None:
    work, run = where(trained)
    result = run_cli("eval", run, "--episodes", "2", "--robots", "proc:2:0,panda", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "proc:2:0" in result.stdout and "success" in result.stdout
    written = sorted((trained / "eval").glob("cli-*.json"))[-1]
    table = json.loads(written.read_text())["robots"]
    assert table["proc:2:0"]["episodes"] == 2 and 0.0 <= table["panda"]["success_rate"] <= 1.0


def test_record_gif(trained: Path) -> None:
    work, run = where(trained)
    result = run_cli("record", run, "--robot", "panda", "--out", "videos/panda.gif", cwd=work)
    assert result.returncode == 0, result.stderr
    assert (work / "videos/panda.gif").stat().st_size > 10_000


def test_transfer_zero_shot(trained: Path) -> None:
    """Zero-shot on a training robot and an unseen one, one episode each."""
    work, run = where(trained)
    result = run_cli("transfer", run, "--robots", "panda,proc:3:0", "--episodes", "1", cwd=work)
    assert result.returncode == 0, result.stderr
    assert f"wrote {run}/transfer" in result.stdout
    for name in ("transfer.json", "transfer.csv", "transfer.md", "heatmap.png"):
        assert (trained / "transfer" / name).stat().st_size > 0, name
    rows = json.loads((trained / "transfer/transfer.json").read_text())["zero_shot"]
    assert [(row["robot"], row["category"], row["episodes"]) for row in rows] == [
        ("panda", "train", 1),
        ("proc:3:0", "other", 1),
    ]


def test_resume_refuses_a_finished_run_without_checkpoints(trained: Path, tmp_path: Path) -> None:
    """A finished run with no checkpoint has nothing to continue from: resume says so in one
    line and exits 2, instead of training it again over its model."""
    run = tmp_path / "runs" / trained.name
    shutil.copytree(trained, run)
    shutil.rmtree(run / "checkpoints")
    model = (run / "model.zip").read_bytes()
    result = run_cli("resume", f"runs/{run.name}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "finished and has no checkpoint to continue from" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (run / "model.zip").read_bytes() == model


def test_saved_zip_loads_in_a_fresh_process(trained: Path, tmp_path: Path) -> None:
    """PPO.load with only deepwe_rl importable, and the same actions as the training process
    would give."""
    from stable_baselines3 import PPO

    from deepwe_rl.envs.vector import make_env

    obs = {k: v[None] for k, v in make_env("reach", "proc:2:0").reset(seed=5)[0].items()}
    np.savez(tmp_path / "obs.npz", **obs)
    here = PPO.load(trained / "model.zip", device="cpu").predict(obs, deterministic=True)[0]
    code = (
        "import sys, numpy as np\n"
        "from stable_baselines3 import PPO\n"
        f"obs = dict(np.load({str(tmp_path / 'obs.npz')!r}))\n"
        f"model = PPO.load({str(trained / 'model.zip')!r}, device='cpu')\n"
        "assert 'deepwe_rl.agents.sb3.policies' in sys.modules\n"
        "print(model.predict(obs, deterministic=True)[0].tolist())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert np.allclose(json.loads(result.stdout), here, atol=1e-6)
    assert np.all(here[0, 2:] == 0.0)  # two joints, no gripper: the other slots are padding


def _train_in_background(work: Path, total: int) -> tuple[subprocess.Popen[str], Path]:
    """``train`` started in the working directory ``work``, into its ``runs/``; the process
    and the run directory, once the run has saved a checkpoint."""
    args = [a for a in TINY if not a.startswith("total_timesteps")]
    proc = subprocess.Popen(
        [
            *CLI,
            "train",
            "configs/quickstart.yaml",
            *args,
            f"total_timesteps={total}",
            "eval.freq=0",
        ],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        ckpts = list(work.glob("runs/*/checkpoints/step_*.zip"))
        if ckpts:
            return proc, ckpts[0].parent.parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.5)
    proc.kill()
    raise AssertionError("no checkpoint appeared")


@pytest.mark.parametrize("how", ["ctrl-c", "kill-9"])
def test_interrupt_then_resume(tmp_path: Path, how: str) -> None:
    """Ctrl-C (exit 130, and the resume command to type) or kill -9 after the first checkpoint;
    ``resume runs/<run>`` from the same working directory finishes the run."""
    work = user_dir(tmp_path, "quickstart.yaml")
    proc, run = _train_in_background(work, total=100_000)
    typed = str(run.relative_to(work))
    if how == "ctrl-c":
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert "checkpoint saved to runs/" in stderr and resume_hint(stderr) == typed
        assert "Traceback" not in stderr
    else:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    steps = sorted(int(p.stem.split("_")[1]) for p in (run / "checkpoints").glob("step_*.zip"))
    before = steps[-1]
    # Shorten the run so resume finishes quickly: the config in the run is the one it resumes.
    config = run / "config.yaml"
    config.write_text(
        config.read_text().replace("total_timesteps: 100000", f"total_timesteps: {before + 400}")
    )
    result = run_cli("resume", typed, cwd=work)
    assert result.returncode == 0, result.stderr
    tags = scalar_tags(run / "tb")
    fps_steps = sorted(step for step, _ in tags["time/fps"])
    assert fps_steps[-1] >= before + 256  # the same curve continues past the checkpoint
    assert (run / "model.zip").is_file()
    from stable_baselines3 import PPO

    assert PPO.load(run / "model.zip", device="cpu").num_timesteps >= before + 400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "configs/missing.yaml"], "config file not found"),
        (["train", "configs/quickstart.yaml", "network.hiden=64"], "did you mean 'network.hidden'"),
        (["train", "configs/quickstart.yaml", "total_timesteps=lots"], "total_timesteps"),
        (["train", "configs/quickstart.yaml", "env.robots=[panda,nobot]"], "unknown robot 'nobot'"),
        (
            [
                "train",
                "configs/quickstart.yaml",
                "env.task=pick_and_place",
                "env.robots=[kuka_iiwa]",
            ],
            "no gripper",
        ),
        (["eval", "runs/does-not-exist"], "run directory not found"),
        (["resume", "runs/does-not-exist"], "run directory not found"),
    ],
)
def test_bad_input_one_line_no_run_dir(tmp_path: Path, args: list[str], message: str) -> None:
    extra = [f"runs_dir={tmp_path}"] if args[0] == "train" else []
    result = run_cli(*args, *extra)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not any(tmp_path.iterdir())
