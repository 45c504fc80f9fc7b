"""Runs that survive faults, tried as a user meets them: the deepwe-rl command as a subprocess,
real SB3 training of a few hundred steps, real run directories.

- Temporaries left by a save cut short are never taken for checkpoints, and resume removes them.
- An internal error is one line, its traceback in ``RUN/error.log``, exit status 1, and the run
  stays resumable.
- SAC and TQC (with HER) resume with the replay buffer their checkpoint had, unless
  ``checkpoint.replay_buffer`` is false, which the resume says.
- The driver of an ``env.vec: ray`` run killed (SIGKILL) once a checkpoint is on disk takes its
  embedded Ray with it, and resume continues from that checkpoint with new env actors.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.save_util import load_from_pkl, load_from_zip_file

from deepwe_rl.agents.run_dir import RunDir, atomic_save
from tests.cli_runs import CLI, ROOT, TINY, TINY_OFF_POLICY, only_run, run_cli
from tests.processes import alive, command_line, descendants, wait_until

pytestmark = pytest.mark.slow

PPO_RUN = [a for a in TINY if not a.startswith("eval.freq")] + ["eval.freq=0"]
"""The tiny quickstart run without periodic evaluation: checkpoints at 256, 512 and 640."""

OFF_POLICY = [
    *TINY_OFF_POLICY,
    "eval.freq=0",
    "checkpoint.freq=200",
]
"""A tiny SAC or TQC run with HER (the configs' own setting): checkpoints at 200 and 300."""


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("train", "configs/quickstart.yaml", *PPO_RUN, f"runs_dir={runs}")
    assert result.returncode == 0, result.stderr
    return only_run(runs)


def copy_run(run: Path, where: Path) -> Path:
    return Path(shutil.copytree(run, where / run.name))


def set_total_timesteps(run: Path, total: int) -> None:
    """Lengthen the run: resume trains to the ``total_timesteps`` of the run's own config."""
    config = run / "config.yaml"
    line = re.compile(r"(?m)^total_timesteps: \d+$")
    text, n = line.subn(f"total_timesteps: {total}", config.read_text())
    assert n == 1
    config.write_text(text)


def corrupt_weights(model_zip: Path) -> None:
    """Leave an SB3 zip a valid archive whose policy weights torch cannot read, as a disk error
    inside the file would: loading it fails deep in ``torch.load``."""
    with zipfile.ZipFile(model_zip) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["policy.pth"] = bytes(len(entries["policy.pth"]))
    with zipfile.ZipFile(model_zip, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def console_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def steps_of(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").iterdir())


# Stale temporaries ------------------------------------------------------------------------------


def test_resume_removes_stale_temporaries_and_uses_the_real_last_checkpoint(
    ppo_run: Path, tmp_path: Path
) -> None:
    run = copy_run(ppo_run, tmp_path)
    set_total_timesteps(run, 900)
    # What a kill -9 in the middle of a save leaves: the first half of a zip, under the
    # temporary name of a checkpoint newer than every real one, and a half-written final model.
    last = run / "checkpoints" / "step_000000640.zip"
    stale = run / "checkpoints" / ".step_000003000.zip.tmp-12554"
    stale.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    stale_model = run / ".model.zip.tmp-12554"
    stale_model.write_bytes(b"PK\x03\x04")
    assert RunDir(run).latest_checkpoint() == (640, last)

    result = run_cli("resume", str(run))

    assert result.returncode == 0, result.stderr
    assert not stale.exists() and not stale_model.exists()
    assert not [p for p in run.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]
    assert f"removed {stale}" in result.stderr
    assert f"resuming from {last} (step 640)" in result.stderr
    # 640 + three rollouts of 128: from the real checkpoint, not from step 3000.
    assert PPO.load(run / "model.zip", device="cpu").num_timesteps == 1024


def test_a_folder_caught_between_renames_is_put_back(tmp_path: Path) -> None:
    """A folder checkpoint (RLlib's) replaced by ``atomic_save`` and killed between its two
    renames: the complete new folder is put in place; with no new folder, the old one."""
    run = RunDir(tmp_path)

    def write(folder: Path) -> None:
        folder.mkdir()
        (folder / "v").write_text("1")

    atomic_save(run.checkpoint_path(300), write)
    ckpt, final = run.checkpoint_path(300), tmp_path / "rllib_checkpoint"
    # killed after "target -> .old" in a replace of step 300 whose new folder was complete,
    ckpt.rename(ckpt.with_name(".step_000000300.old-4242"))
    (new := ckpt.with_name(".step_000000300.tmp-4242")).mkdir()
    (new / "v").write_text("2")
    # and in a replace of the final checkpoint whose new folder had not been started.
    (old := tmp_path / ".rllib_checkpoint.old-4343").mkdir()
    (old / "v").write_text("1")
    # A transfer's temporary is not training's to remove.
    (transfer := tmp_path / ".transfer.tmp-4444").mkdir()
    assert run.latest_checkpoint() is None

    done = run.recover_interrupted_saves()

    assert (ckpt / "v").read_text() == "2" and (final / "v").read_text() == "1"
    assert run.latest_checkpoint() == (300, ckpt)
    assert sorted(p.name for p in run.checkpoints.iterdir()) == ["step_000000300"]
    assert transfer.is_dir()
    assert len([line for line in done if line.startswith("restored")]) == 2


# Internal errors --------------------------------------------------------------------------------


def test_resume_internal_error_is_one_line_with_error_log(ppo_run: Path, tmp_path: Path) -> None:
    run = copy_run(ppo_run, tmp_path)
    set_total_timesteps(run, 900)
    corrupt_weights(run / "checkpoints" / "step_000000640.zip")
    before = {p.name: p.read_bytes() for p in (run / "checkpoints").iterdir()}

    result = run_cli("resume", str(run))

    assert result.returncode == 1, result.stderr
    lines = console_lines(result.stderr + result.stdout)
    assert len(lines) == 2, lines  # "resuming from ..." and the error
    assert lines[0].startswith("resuming from")
    log = run / "error.log"
    assert lines[1].startswith(f"error: resuming {run} failed: UnpicklingError"), lines[1]
    assert lines[1].endswith(f"traceback in {log}")
    details = log.read_text()
    assert "Traceback (most recent call last)" in details and "torch/serialization.py" in details
    assert "Traceback" not in result.stderr + result.stdout
    # Nothing in the run was touched; without the damaged checkpoint it resumes from the one
    # before.
    assert {p.name: p.read_bytes() for p in (run / "checkpoints").iterdir()} == before
    (run / "checkpoints" / "step_000000640.zip").unlink()
    again = run_cli("resume", str(run))
    assert again.returncode == 0, again.stderr
    assert "(step 512)" in again.stderr
    assert PPO.load(run / "model.zip", device="cpu").num_timesteps == 512 + 4 * 128


def test_train_internal_error_leaves_a_resumable_run(ppo_run: Path, tmp_path: Path) -> None:
    """``init_from`` a run whose final model is damaged: training fails inside SB3's loading,
    after its run directory exists. Once the source is repaired, resume trains the run."""
    source = copy_run(ppo_run, tmp_path)
    corrupt_weights(source / "model.zip")
    runs = tmp_path / "runs"

    args = ["train", "configs/quickstart.yaml", *PPO_RUN, f"init_from={source}"]
    result = run_cli(*args, f"runs_dir={runs}")

    assert result.returncode == 1, result.stderr
    run = only_run(runs)
    lines = console_lines(result.stderr + result.stdout)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: training {run} failed: UnpicklingError"), lines[0]
    assert lines[0].endswith(f"traceback in {run / 'error.log'}")
    assert "load_state_dict" not in lines[0]
    details = (run / "error.log").read_text()
    assert "Traceback (most recent call last)" in details and "load_model" in details

    shutil.copy(ppo_run / "model.zip", source / "model.zip")
    again = run_cli("resume", str(run))
    assert again.returncode == 0, again.stderr
    assert "training from step 0" in again.stderr
    assert PPO.load(run / "model.zip", device="cpu").num_timesteps == 640


def test_other_commands_fail_in_one_line_too(ppo_run: Path, tmp_path: Path) -> None:
    run = copy_run(ppo_run, tmp_path)
    corrupt_weights(run / "model.zip")

    result = run_cli("eval", str(run), "--episodes", "1")

    assert result.returncode == 1, result.stderr
    lines = console_lines(result.stderr + result.stdout)
    assert len(lines) == 1 and lines[0].startswith("error: internal error: UnpicklingError"), lines
    log = Path(lines[0].rpartition("traceback in ")[2])
    try:
        assert "deepwe-rl eval" in log.read_text() and "Traceback" in log.read_text()
    finally:
        log.unlink()


# Replay buffers ---------------------------------------------------------------------------------


def buffers(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").glob("*.replay_buffer.pkl"))


def test_sac_her_resumes_with_its_replay_buffer(tmp_path: Path) -> None:
    result = run_cli("train", "configs/sac_her_reach.yaml", *OFF_POLICY, f"runs_dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path)
    # Only the newest checkpoint keeps its buffer: 300 steps of 2 envs, 150 rows of 2.
    assert buffers(run) == ["step_000000300.replay_buffer.pkl"]
    saved = load_from_pkl(run / "checkpoints" / "step_000000300.replay_buffer.pkl")
    assert type(saved).__name__ == "HerReplayBuffer"
    assert (saved.pos, saved.full, saved.size() * saved.n_envs) == (150, False, 300)

    set_total_timesteps(run, 400)
    resumed = run_cli("resume", str(run))

    assert resumed.returncode == 0, resumed.stderr
    assert "replay buffer restored: 300 transitions" in resumed.stderr
    assert buffers(run) == ["step_000000400.replay_buffer.pkl"]
    after = load_from_pkl(run / "checkpoints" / "step_000000400.replay_buffer.pkl")
    # The buffer went on from where it was: 50 more rows after the 150 it had, which are the
    # same transitions.
    assert (after.pos, after.full) == (200, False)
    for key, rows in saved.observations.items():
        assert np.array_equal(after.observations[key][:150], rows[:150]), key
    assert np.array_equal(after.actions[:150], saved.actions[:150])
    assert not np.array_equal(after.actions[150:200], np.zeros_like(after.actions[150:200]))


def test_tqc_without_buffers_in_checkpoints_says_so_on_resume(tmp_path: Path) -> None:
    off = "checkpoint.replay_buffer=false"
    result = run_cli(
        "train", "configs/tqc_her_reach.yaml", *OFF_POLICY, off, f"runs_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr
    run = only_run(tmp_path)
    assert buffers(run) == [] and steps_of(run) == ["step_000000200.zip", "step_000000300.zip"]

    set_total_timesteps(run, 400)
    resumed = run_cli("resume", str(run))

    assert resumed.returncode == 0, resumed.stderr
    assert (
        "replay buffer not restored (checkpoint.replay_buffer is false): starting with an empty "
        "one, 100 steps before updates resume"
    ) in resumed.stderr
    assert buffers(run) == []
    saved, _, _ = load_from_zip_file(run / "model.zip", device="cpu")
    assert saved["num_timesteps"] == 400 and saved["learning_starts"] == 300 + 100


# A killed driver with env.vec: ray --------------------------------------------------------------

RAY_VEC_RUN = [
    "total_timesteps=768",
    "env.n_envs=2",
    "env.vec=ray",
    "ray.envs_per_runner=1",
    "env.robots=[panda,proc:2:0]",
    "algo.n_steps=64",
    "algo.batch_size=64",
    "algo.n_epochs=1",
    "eval.freq=0",
    "checkpoint.freq=128",
    "checkpoint.keep=10",
    "network.hidden=64",
]
"""SB3 PPO with its 2 envs in 2 Ray actors of an embedded Ray: a checkpoint every rollout of
128 steps, all of them kept, 768 in all."""

STARTUP_S = 300.0
"""How long the run may take to reach its first checkpoint (Ray's start included) on a busy
machine."""
ORPHANS_EXIT_S = 300.0
"""How long the killed driver's Ray processes may take to exit. Ray's agents give up on their
dead raylet after about 60 s (they first try to report it to the dead GCS)."""


def rollout_pids(run: Path) -> list[set[int]]:
    """The env actors' pids in each ``cluster/rollout_nodes`` table the run wrote, in order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"), size_guidance={"tensors": 0})
    acc.Reload()
    tables = [
        event.tensor_proto.string_val[0].decode()
        for event in acc.Tensors("cluster/rollout_nodes/text_summary")
    ]
    return [
        {int(row.split("|")[4]) for row in table.splitlines() if row.startswith("| env actor")}
        for table in tables
    ]


def test_a_killed_ray_vec_env_driver_resumes_with_new_actors(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with (tmp_path / "train.log").open("w") as log:
        driver = subprocess.Popen(
            [*CLI, "train", "configs/quickstart.yaml", *RAY_VEC_RUN, f"runs_dir={runs}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        # The second checkpoint is on disk (renamed into place complete): kill the driver there.
        # Not at the first: it is saved on the first rollout's last step, before that rollout
        # ends and its actors' table is written to TensorBoard, which a busy machine showed.
        second = wait_until(
            lambda: next(runs.glob("*/checkpoints/step_000000256.zip"), None),
            STARTUP_S,
            "the run wrote no second checkpoint: " + (tmp_path / "train.log").read_text()[-2000:],
        )
        ray_processes = descendants(driver.pid)
        actors = [p for p in ray_processes if command_line(p).startswith("ray::EnvGroup")]
        os.kill(driver.pid, signal.SIGKILL)
        assert driver.wait(timeout=60) == -signal.SIGKILL
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    run = second.parent.parent
    assert len(actors) == 2, [command_line(p) for p in ray_processes]
    assert not (run / "model.zip").exists(), "the run finished before the kill"
    latest = RunDir(run).latest_checkpoint()
    assert latest is not None and latest[0] < 768

    # Resumed at once, while what is left of the killed driver's Ray may still be exiting.
    result = run_cli("resume", str(run))

    assert result.returncode == 0, result.stderr
    assert f"resuming from {latest[1]} (step {latest[0]})" in result.stderr
    assert PPO.load(run / "model.zip", device="cpu").num_timesteps == 768
    # Every checkpoint on the grid of checkpoint.freq, none at the resume's first step.
    assert steps_of(run) == [f"step_{step:09d}.zip" for step in range(128, 769, 128)]
    assert not [p for p in run.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]
    # The killed driver's Ray goes with it: GCS and raylet at once (PR_SET_PDEATHSIG), the
    # env actors and Ray's agents once they see their raylet gone.
    wait_until(
        lambda: not [p for p in ray_processes if alive(p)],
        ORPHANS_EXIT_S,
        "processes of the killed driver's Ray still run: "
        + str([command_line(p) for p in ray_processes if alive(p)]),
    )
    # New env actors: the resumed run's table lists two processes, neither of them killed.
    before, after = rollout_pids(run)
    assert before == set(actors) and len(after) == 2 and not after & before, (before, after)
