"""Expert demonstrations on mixed arms, and behaviour cloning that fits them, end to end."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from benchmarks.learning_curve import dagger_rounds
from deepwe_rl.agents.demonstrations import Demonstrations, collect
from deepwe_rl.agents.env_factory import training_env_fns
from deepwe_rl.agents.sb3.behaviour_cloning import pretrain
from deepwe_rl.agents.sb3.train import _new_model, _vec_env
from deepwe_rl.config import RunConfig, validate
from deepwe_rl.envs.robots.catalog import resolve_robot
from tests.cli_runs import only_run, run_cli, scalar_tags
from tests.helpers import write_user_arm

MIXED = ["panda", "proc:3:0"]  # 7 joints and a gripper; 3 joints and none
PICKERS = ["panda", "proc:5:22"]  # gripper arms of 7 and 5 joints


def _config(**demonstrations: int) -> RunConfig:
    return validate(
        {
            "env": {"task": "push", "robots": MIXED, "n_envs": 2},
            "network": {"hidden": 64},
            "algo": {"n_steps": 32, "batch_size": 32},
            "demonstrations": {"batch_size": 64, **demonstrations},
        }
    )


def test_demonstrations_have_the_contract_shapes_for_mixed_arms() -> None:
    cfg = _config()
    envs = [fn() for fn in training_env_fns(cfg.env, MIXED)]
    try:
        data = collect(envs, 4, seed=0, gamma=0.95)
        space = envs[0].observation_space
    finally:
        for env in envs:
            env.close()
    n = len(data)
    assert data.episodes == 4 and data.env_steps == n
    assert data.actions.shape == (n, cfg.env.max_joints + 1)
    for key, sub in space.spaces.items():
        assert data.observations[key].shape == (n, *sub.shape), key
    joints = data.observations["joint_mask"].sum(axis=1).astype(int)
    assert set(joints) == {7, 3}
    for row, j in zip(data.actions, joints, strict=True):
        assert np.all(row[j:-1] == 0.0)  # padded slots
        assert np.all(np.abs(row[:j]) <= 1.0) and np.abs(row[:j]).max() > 0
    no_gripper = joints == 3
    assert np.all(data.actions[no_gripper, -1] == 0.0)
    assert np.all(data.actions[~no_gripper, -1] == -1.0)  # pushing with the gripper closed
    assert np.all(np.isfinite(data.returns)) and np.all(data.returns <= 0.0)  # dense reward


def _expert_episodes(cfg: RunConfig, robots: list[str], episodes: int) -> Demonstrations:
    envs = [fn() for fn in training_env_fns(cfg.env, robots)]
    try:
        return collect(envs, episodes, seed=0, gamma=0.95)
    finally:
        for env in envs:
            env.close()


def test_demonstrations_come_back_from_their_file_and_sample_distinct_steps(tmp_path: Path) -> None:
    data = _expert_episodes(_config(), MIXED, 2)
    back = Demonstrations.load(data.save(tmp_path / "demonstrations.npz"))
    assert (back.env_steps, back.episodes, back.successes) == (
        data.env_steps,
        data.episodes,
        data.successes,
    )
    assert np.array_equal(back.actions, data.actions)
    assert np.array_equal(back.returns, data.returns)
    assert back.observations.keys() == data.observations.keys()
    for key, value in data.observations.items():
        assert np.array_equal(back.observations[key], value), key
    assert [p.name for p in tmp_path.iterdir()] == ["demonstrations.npz"]
    part = data.sample(10, seed=0)
    rows = {tuple(r) for r in part.observations["joint_state"].reshape(10, -1)}
    assert len(part) == 10 and len(rows) == 10
    assert len(data.sample(10 * len(data), seed=0)) == len(data)


def test_pick_demonstrations_open_and_close_each_gripper() -> None:
    """PickAndPlace demonstrations over two gripper arms of different joint counts: padded
    slots zero, and each arm's gripper both opened (to come down on the cube) and closed."""
    cfg = validate({"env": {"task": "pick_and_place", "robots": PICKERS, "n_envs": 2}})
    data = _expert_episodes(cfg, PICKERS, 4)
    joints = data.observations["joint_mask"].sum(axis=1).astype(int)
    assert set(joints) == {7, 5}
    for j in (7, 5):
        rows = data.actions[joints == j]
        assert np.all(rows[:, j:-1] == 0.0)
        assert set(rows[:, -1]) == {-1.0, 1.0}
    assert data.observations["achieved_goal"][:, 2].max() > 0.05  # a cube was lifted


@pytest.mark.usefixtures("one_thread")
def test_behaviour_cloning_moves_the_policy_onto_the_expert() -> None:
    """The fitted policy's actions on the expert's states are far closer to the expert's than
    the untrained policy's, and a DAgger round adds the policy's own episodes."""
    cfg = _config(episodes=4, dagger_rounds=1, dagger_episodes=2, epochs=40)
    venv = _vec_env(cfg, MIXED)
    model = _new_model(cfg, venv)
    envs = [fn() for fn in training_env_fns(cfg.env, MIXED)]
    try:
        data = collect(envs, 4, seed=cfg.seed, gamma=cfg.algo.gamma)
    finally:
        for env in envs:
            env.close()

    def error() -> float:
        actions = model.predict(data.observations, deterministic=True)[0]
        return float(np.mean((actions - data.actions) ** 2))

    before = error()
    rounds = list(pretrain(model, cfg, MIXED))
    venv.close()
    assert [r.driver for r in rounds] == ["expert", "policy"]
    assert rounds[0].episodes == 4 and rounds[1].episodes == 2
    assert rounds[1].dataset_size == len(data) + rounds[1].env_steps
    assert error() < 0.3 * before


@pytest.mark.usefixtures("one_thread")
def test_dagger_alone_lets_the_policy_drive_from_the_first_round() -> None:
    """``episodes: 0`` with DAgger rounds (fine-tuning a trained policy onto a new arm): every
    round is driven by the policy, and each fits on all the rounds so far."""
    cfg = _config(episodes=0, dagger_rounds=2, dagger_episodes=2, epochs=1)
    assert cfg.demonstrations.enabled
    venv = _vec_env(cfg, MIXED)
    model = _new_model(cfg, venv)
    rounds = list(pretrain(model, cfg, MIXED))
    venv.close()
    assert [r.driver for r in rounds] == ["policy", "policy"]
    assert rounds[0].dataset_size == rounds[0].env_steps
    assert rounds[1].dataset_size == rounds[0].env_steps + rounds[1].env_steps


@dataclass(frozen=True)
class PushRun:
    folder: Path
    stderr: str
    seconds: float
    """Wall-clock of the training command."""


@pytest.fixture(scope="module")
def push_run(tmp_path_factory: pytest.TempPathFactory) -> PushRun:
    """``configs/push.yaml`` as a user runs it, shrunk to two arms and a few episodes."""
    runs = tmp_path_factory.mktemp("runs")
    started = time.perf_counter()
    result = run_cli(
        "train",
        "configs/push.yaml",
        "env.robots=[panda,proc:3:0]",
        "env.n_envs=2",
        "total_timesteps=256",
        "algo.n_steps=64",
        "algo.batch_size=64",
        "algo.n_epochs=1",
        "network.hidden=64",
        "demonstrations.episodes=2",
        "demonstrations.dagger_rounds=1",
        "demonstrations.dagger_episodes=2",
        "demonstrations.epochs=1",
        "eval.freq=256",
        "eval.episodes=1",
        "checkpoint.freq=0",
        f"runs_dir={runs}",
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-3000:]
    return PushRun(only_run(runs), result.stderr, seconds)


def test_push_config_clones_then_trains_through_the_cli(push_run: PushRun) -> None:
    """Two demonstration rounds logged under ``demonstrations/`` in TensorBoard, the cloned
    policy evaluated before RL, then PPO, then the final model."""
    assert "demonstrations round 1 (policy drove 2 episodes)" in push_run.stderr
    run = push_run.folder
    tags = scalar_tags(run / "tb")
    assert [step for step, _ in tags["demonstrations/success"]] == [0, 1]
    steps = [value for _, value in tags["demonstrations/env_steps"]]
    assert 0 < steps[0] < steps[1]
    assert [step for step, _ in tags["eval/success_rate"]] == [0, 256]
    assert (run / "eval" / "eval_000000000.json").is_file()
    assert (run / "model.zip").is_file()
    kept = Demonstrations.load(run / "demonstrations.npz")
    assert len(kept) == steps[1]  # both rounds, every step


def test_the_dagger_rounds_of_a_push_run_are_read_back_with_their_time(push_run: PushRun) -> None:
    """What the transfer benchmark races on: the policy's round (not the expert's) at the env
    steps spent so far, inside the run's wall-clock, before PPO's end."""
    tags = scalar_tags(push_run.folder / "tb")
    ((steps, seconds, success),) = dagger_rounds(push_run.folder, push_run.seconds)
    assert steps == tags["demonstrations/env_steps"][1][1]
    assert success == pytest.approx(tags["demonstrations/success"][1][1], abs=1e-4)
    assert 0 < seconds < push_run.seconds


def test_fine_tuning_rehearses_the_source_runs_demonstrations(
    push_run: PushRun, tmp_path: Path
) -> None:
    """DAgger alone onto a new arm from a Push run, fitting 50 of that run's demonstration steps
    beside each round's own; without init_from, or from a run that kept no demonstrations, the
    option is refused in one line before a run directory exists."""
    finetune = [
        "train",
        str(push_run.folder / "config.yaml"),
        "env.robots=[proc:5:1]",
        "env.n_envs=1",
        "total_timesteps=64",
        "demonstrations.episodes=0",
        "demonstrations.dagger_rounds=1",
        "demonstrations.dagger_episodes=1",
        "demonstrations.rehearsal_steps=50",
        "eval.freq=0",
        f"runs_dir={tmp_path / 'runs'}",
    ]
    result = run_cli(*finetune, f"init_from={push_run.folder}")
    assert result.returncode == 0, result.stderr[-3000:]
    tags = scalar_tags(only_run(tmp_path / "runs") / "tb")
    (_, fitted), (_, steps) = (
        tags["demonstrations/dataset_size"][-1],
        tags["demonstrations/env_steps"][-1],
    )
    assert fitted == steps + 50

    bare = tmp_path / "bare"
    shutil.copytree(push_run.folder, bare)
    (bare / "demonstrations.npz").unlink()
    for start, message in [
        ([], "init_from is not set"),
        ([f"init_from={bare}"], "has no demonstrations.npz"),
    ]:
        refused = run_cli(*finetune[:-1], f"runs_dir={tmp_path / 'refused'}", *start)
        assert refused.returncode == 2
        assert len(refused.stderr.strip().splitlines()) == 1 and message in refused.stderr
        assert not (tmp_path / "refused").exists()


def test_transfer_evaluates_a_urdf_arm_on_a_push_run(push_run: PushRun, tmp_path: Path) -> None:
    """``deepwe-rl transfer RUN --robots urdf:PATH`` on a Push run evaluates any URDF arm that
    can reach the table (here UR5's from its ROS description package, meshes named by
    ``package://``, no home pose given) beside a catalog arm; an arm that cannot reach the
    table top is refused in one line before any work."""
    ur5 = f"urdf:{resolve_robot('ur5').urdf}"
    result = run_cli(
        "transfer", str(push_run.folder), "--robots", f"panda,{ur5}", "--episodes", "1"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((push_run.folder / "transfer" / "transfer.json").read_text())
    assert [r["robot"] for r in report["zero_shot"]] == ["panda", ur5]

    user = write_user_arm(tmp_path / "user_arm.urdf")
    before = sorted(p.name for p in push_run.folder.iterdir())
    refused = run_cli("transfer", str(push_run.folder), "--robots", f"urdf:{user}")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: robot 'urdf:{user}' cannot reach the table top, so it cannot do Push"
    ]
    assert sorted(p.name for p in push_run.folder.iterdir()) == before


def test_rllib_refuses_demonstrations(tmp_path: Path) -> None:
    result = run_cli(
        "train", "configs/rllib_ppo.yaml", "demonstrations.episodes=10", f"runs_dir={tmp_path}"
    )
    assert result.returncode == 2
    assert "demonstrations.episodes: behaviour cloning runs on the sb3 backend only" in (
        result.stderr + result.stdout
    )
    assert not list(tmp_path.iterdir())
