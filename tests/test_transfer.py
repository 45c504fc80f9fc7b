"""``deepwe-rl transfer`` end to end on a tiny trained run, ``init_from`` fine-tuning, and the
bookkeeping of transfer results."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from deepwe_rl.agents import training
from deepwe_rl.agents.run_dir import atomic_save, open_run_dir
from deepwe_rl.agents.sb3.train import load_model
from deepwe_rl.agents.transfer.results import Curve, FinetuneSummary
from deepwe_rl.agents.transfer.selection import evaluated_robots, finetuned_robots
from deepwe_rl.config import ConfigError, EnvSection, load_config
from deepwe_rl.envs.robots.catalog import SPLITS, held_out_robots
from tests.cli_runs import TINY, run_cli, scalar_tags, train_tiny
from tests.helpers import write_user_arm


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny(tmp_path_factory.mktemp("runs"))


@dataclass(frozen=True)
class Transferred:
    folder: Path
    """The run's ``transfer/`` folder."""
    user: str
    """The user's URDF arm, as named on the command line."""
    stdout: str


@pytest.fixture(scope="module")
def transferred(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> Transferred:
    """Zero-shot on an extrapolate robot, a real held-out arm (xarm6), a user's URDF arm and a
    training robot; fine-tuning (one 256-step PPO rollout) on the three held-out ones."""
    user = write_user_arm(tmp_path_factory.mktemp("urdf") / "user_arm.urdf")
    result = run_cli(
        "transfer", str(trained),
        "--robots", "xarm6",
        "--robots", f"proc:4:100,urdf:{user}",
        "--robots", "panda",
        "--episodes", "3",
        "--finetune-steps", "256",
        "--finetune-episodes", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return Transferred(trained / "transfer", f"urdf:{user}", result.stdout)


@pytest.mark.slow
def test_transfer_writes_every_output(transferred: Transferred) -> None:
    folder = transferred.folder
    for name in ("transfer.json", "transfer.csv", "transfer.md", "heatmap.png"):
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "finetune_curves.png").stat().st_size > 0
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".transfer")]


@pytest.mark.slow
def test_json_csv_and_markdown_agree(transferred: Transferred) -> None:
    folder, user = transferred.folder, transferred.user
    payload = json.loads((folder / "transfer.json").read_text())
    with (folder / "transfer.csv").open() as f:
        rows = {row["robot"]: row for row in csv.DictReader(f)}
    md_rows = {
        cells[0]: cells
        for line in (folder / "transfer.md").read_text().splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    header = md_rows.pop("robot")
    zero = {z["robot"]: z for z in payload["zero_shot"]}
    assert set(zero) == set(rows) == {"xarm6", "proc:4:100", user, "panda"}
    categories = {r: z["category"] for r, z in zero.items()}
    assert categories == {
        "panda": "train",
        "proc:4:100": "extrapolate",
        "xarm6": "real-heldout",
        user: "other",
    }
    assert zero[user]["joints"] == 3
    summary = payload["finetune"]["summary"]
    assert set(summary) == {"xarm6", "proc:4:100", user}
    for robot, z in zero.items():
        md = dict(zip(header, md_rows[robot], strict=True))
        for key in ("success_rate", "success_ci_low", "final_distance", "mean_return"):
            assert float(rows[robot][key]) == pytest.approx(z[key], abs=1e-12)
            assert md[key] == f"{z[key]:.3f}"
        assert z["success_ci_low"] <= z["success_rate"] <= z["success_ci_high"]
        assert z["episodes"] == 3
        if robot in summary:
            final = summary[robot]["finetuned"]["final_success"]
            assert float(rows[robot]["finetuned_final_success"]) == pytest.approx(final)
            assert md["finetuned_final_success"] == f"{final:.3f}"
        else:
            assert rows[robot]["finetuned_final_success"] == md["finetuned_final_success"] == ""
    for line in (folder / "transfer.md").read_text().splitlines():
        if line.startswith("| extrapolate |"):
            assert line == f"| extrapolate | {payload['category_means']['extrapolate']:.3f} |"


@pytest.mark.slow
def test_finetune_curves_start_from_zero_shot(transferred: Transferred) -> None:
    folder = transferred.folder
    payload = json.loads((folder / "transfer.json").read_text())
    zero = {z["robot"]: z["success_rate"] for z in payload["zero_shot"]}
    curves = payload["finetune"]["curves"]
    assert {(c["robot"], c["condition"]) for c in curves} == {
        (r, cond) for r in payload["finetune"]["summary"] for cond in ("finetuned", "scratch")
    }
    for c in curves:
        assert c["steps"] == sorted(c["steps"]) and len(c["steps"]) == len(c["success"]) >= 2
        if c["condition"] == "finetuned":
            assert c["steps"][0] == 0 and c["success"][0] == zero[c["robot"]]
        else:
            assert c["steps"][0] > 0


@pytest.mark.slow
def test_each_finetuning_run_ends_with_its_last_evaluation(transferred: Transferred) -> None:
    """Every fine-tuning run, named in transfer.json, prints its last evaluation of its one
    robot, the overall figure, and where its model, eval JSON and TensorBoard logs are."""
    curves = json.loads((transferred.folder / "transfer.json").read_text())["finetune"]["curves"]
    assert len(curves) == 6
    lines = transferred.stdout.splitlines()
    for curve in curves:
        child = transferred.folder / curve["run"]
        assert child.parent.parent.name == "finetune"
        assert child.name.startswith(f"{curve['condition']}-seed{curve['seed']}-")
        [title] = [i for i, line in enumerate(lines) if f"{child.name}: last evaluation" in line]
        block = lines[title : title + 12]
        last = sorted((child / "eval").glob("eval_*.json"))[-1]
        assert f"step {json.loads(last.read_text())['step']}" in lines[title]
        assert any(line.startswith("│ " + curve["robot"][:10]) for line in block), block
        assert any(line.startswith("overall eval success ") for line in block), block
        for shown in (f"model: {child / 'model.zip'}", f"eval: {last}", f"tensorboard: {child}/tb"):
            assert shown in block, block


@pytest.mark.slow
def test_transfer_reaches_tensorboard(trained: Path, transferred: Transferred) -> None:
    tags = scalar_tags(trained / "tb")
    for tag in (
        "transfer/xarm6/zero_shot_success",
        "transfer/extrapolate/zero_shot_success",
        "transfer/proc:4:100/finetuned_success",
        "transfer/proc:4:100/scratch_success",
    ):
        assert tag in tags, tag
    images = set()
    for events in (trained / "tb").glob("*.transfer"):
        acc = EventAccumulator(str(events))
        acc.Reload()
        images |= set(acc.Tags()["images"])
    assert {"transfer/heatmap", "transfer/finetune_curves"} <= images


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--split", "nope"], "unknown split 'nope'"),
        (["--robots", "nobot"], "unknown robot 'nobot'"),
        (["--robots", "urdf:/no/such.urdf"], "URDF file not found"),
        (
            ["--robots", "panda", "--finetune-robots", "xarm6"],
            "--finetune-robots: xarm6 not among the evaluated robots",
        ),
    ],
)
def test_bad_robots_one_line_nothing_written(trained: Path, args: list[str], message: str) -> None:
    before = sorted(p.name for p in trained.iterdir())
    result = run_cli("transfer", str(trained), *args, "--episodes", "1")
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in trained.iterdir()) == before


def test_evaluated_robots_leave_out_split_arms_that_cannot_do_the_task() -> None:
    """A split's arm that cannot push (proc:2:100) is left out, a robot named twice is
    evaluated once, and with no robots asked the run's own come first, then the held-out ones
    that can push."""
    env = EnvSection(task="push", robots=["panda"])
    extrapolate = [r for r in SPLITS["extrapolate"] if r != "proc:2:100"]
    assert evaluated_robots(env, ["extrapolate"], ["panda", "panda"]) == [*extrapolate, "panda"]
    default = evaluated_robots(env, [], [])
    assert default[0] == "panda" and "proc:2:100" not in default
    assert set(default) == {"panda", *held_out_robots()} - {"proc:2:100"}
    assert finetuned_robots([], default) is None
    assert finetuned_robots(["xarm6,proc:4:100"], default) == ["xarm6", "proc:4:100"]


def test_missing_run_dir(tmp_path: Path) -> None:
    result = run_cli("transfer", str(tmp_path / "nope"))
    assert result.returncode == 2 and "run directory not found" in result.stderr


@pytest.mark.slow
def test_init_from_starts_from_the_trained_weights(trained: Path, tmp_path: Path) -> None:
    """With a vanishing learning rate, a run started from another ends with its weights."""
    cfg = load_config(
        "configs/quickstart.yaml",
        [*TINY, "total_timesteps=128", "eval.freq=0", "algo.learning_rate=1e-12",
         f"runs_dir={tmp_path}", f"init_from={trained}"],
    )  # fmt: skip
    child = training.start(cfg)
    source = load_model(open_run_dir(trained)).policy.state_dict()
    for name, value in load_model(child).policy.state_dict().items():
        torch.testing.assert_close(value, source[name], rtol=0, atol=1e-6, msg=name)


def test_init_from_must_match(trained: Path, tmp_path: Path) -> None:
    cfg = load_config(
        "configs/quickstart.yaml",
        [*TINY, "network.hidden=32", f"runs_dir={tmp_path}", f"init_from={trained}"],
    )
    with pytest.raises(ConfigError, match="init_from: network differs"):
        training.check_run_config(cfg)
    assert list(tmp_path.iterdir()) == []
    cfg = cfg.model_copy(update={"init_from": str(tmp_path / "none")})
    with pytest.raises(ConfigError, match="init_from: run directory not found"):
        training.check_run_config(cfg)


def test_steps_to_target_and_median() -> None:
    curve = Curve("r", "scratch", 0, [100, 200, 300], [0.5, 0.8, 0.6])
    assert curve.steps_to(0.8) == 200 and curve.steps_to(0.9) is None
    assert FinetuneSummary(1.0, [100, 300, None]).median_steps_to_target == 300
    assert FinetuneSummary(1.0, [100, None, None]).median_steps_to_target is None
    assert np.isclose(FinetuneSummary(1.0, [100, 200]).median_steps_to_target, 150)


def test_atomic_save_leaves_nothing_when_interrupted(tmp_path: Path) -> None:
    def write(folder: Path) -> None:
        folder.mkdir()
        (folder / "half.json").write_text("{")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_save(tmp_path / "transfer", write)
    assert list(tmp_path.iterdir()) == []
