"""Same config, same seed, same results: two SB3 runs of a few hundred steps, trained by the
deepwe-rl command one after the other, write byte-identical evaluation JSON and end with the
same policy weights. (RLlib: see docs/cluster.md, "Determinism".)"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from stable_baselines3.common.save_util import load_from_zip_file

from tests.cli_runs import TINY_OFF_POLICY, only_run, run_cli

pytestmark = pytest.mark.slow

PPO = [
    "total_timesteps=512",
    "env.n_envs=2",
    "env.robots=[panda,proc:2:0]",
    "algo.n_steps=64",
    "algo.batch_size=64",
    "algo.n_epochs=2",
    "network.hidden=64",
    "eval.freq=256",
    "eval.episodes=2",
    "checkpoint.freq=0",
]
"""A short quickstart PPO run: four updates, evaluated at 256 and 512 steps."""

SAC = [
    *TINY_OFF_POLICY,
    "eval.freq=150",
    "eval.episodes=2",
    "checkpoint.freq=0",
]
"""A short SAC run with HER (the config's own setting): 100 updates, evaluated at 150 and 300."""


def train(config: str, overrides: list[str], runs: Path) -> Path:
    result = run_cli("train", config, *overrides, f"runs_dir={runs}")
    assert result.returncode == 0, result.stderr
    return only_run(runs)


def eval_files(run: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((run / "eval").glob("eval_*.json"))}


def policy_weights(run: Path) -> dict[str, torch.Tensor]:
    _, params, _ = load_from_zip_file(run / "model.zip", device="cpu")
    return params["policy"]


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train("configs/quickstart.yaml", PPO, tmp_path_factory.mktemp("ppo"))


def assert_same_results(first: Path, second: Path) -> None:
    assert eval_files(second) == eval_files(first)
    a, b = policy_weights(first), policy_weights(second)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_ppo_the_same_config_and_seed_give_the_same_evaluations(
    ppo_run: Path, tmp_path: Path
) -> None:
    again = train("configs/quickstart.yaml", PPO, tmp_path)

    assert list(eval_files(ppo_run)) == ["eval_000000256.json", "eval_000000512.json"]
    assert_same_results(ppo_run, again)


def test_sac_the_same_config_and_seed_give_the_same_evaluations(tmp_path: Path) -> None:
    first = train("configs/sac_her_reach.yaml", SAC, tmp_path / "first")
    second = train("configs/sac_her_reach.yaml", SAC, tmp_path / "second")

    assert list(eval_files(first)) == ["eval_000000150.json", "eval_000000300.json"]
    assert_same_results(first, second)


def test_another_seed_gives_other_evaluations(ppo_run: Path, tmp_path: Path) -> None:
    """The comparison above can fail: with another seed, the same run evaluates differently."""
    other = train("configs/quickstart.yaml", [*PPO, "seed=1"], tmp_path)

    assert list(eval_files(other)) == list(eval_files(ppo_run))
    assert eval_files(other) != eval_files(ppo_run)
