"""Config loading, overrides and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deepwe_rl.config import ConfigError, dump_config, load_config, parse_overrides, validate
from tests.cli_runs import run_cli

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


def test_defaults_validate() -> None:
    cfg = validate({})
    assert cfg.backend == "sb3" and cfg.network.kind == "deepwe" and cfg.env.max_joints == 8


def test_overrides_nested_and_typed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nnetwork:\n  hidden: 64\n")
    cfg = load_config(
        path, ["total_timesteps=2000", "seed=1", "network.kind=mlp", "env.robots=[panda,proc:4:1]"]
    )
    assert cfg.total_timesteps == 2000 and cfg.seed == 1
    assert cfg.network.kind == "mlp" and cfg.network.hidden == 64
    assert cfg.env.robots == ["panda", "proc:4:1"]


def test_resolved_config_round_trips(tmp_path: Path) -> None:
    cfg = validate({"name": "rt", "env": {"robots": "train"}})
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_config(cfg))
    assert load_config(path) == cfg


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"netwrk": {}}, "unknown key 'netwrk'; did you mean 'network'?"),
        ({"network": {"hiden": 3}}, "unknown key 'network.hiden'; did you mean 'network.hidden'?"),
        ({"total_timesteps": "many"}, "total_timesteps: Input should be a valid integer"),
        ({"algo": {"gamma": 1.5}}, "algo.gamma: Input should be less than or equal to 1"),
        ({"network": {"kind": "resnet"}}, "network.kind: Input should be 'deepwe', 'mlp' or"),
        ({"backend": "torch.nn.Module"}, "backend: Input should be 'sb3' or 'rllib'"),
        ({"network": {"attn_dim": 130}}, "attn_dim (130) must be divisible by attn_heads (4)"),
        ({"name": "../escape"}, "name: String should match pattern"),
        ({"network": {"depth": 1, "layers": 2}}, "depth is the old name of layers"),
    ],
)
def test_bad_config_one_clear_line(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate(raw)
    text = str(err.value)
    assert message in text and "\n" not in text


def test_bad_overrides() -> None:
    with pytest.raises(ConfigError, match="not of the form key=value"):
        parse_overrides(["seed"])
    with pytest.raises(ConfigError, match="'seed' is not a section"):
        parse_overrides(["seed=1", "seed.x=2"])


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML at line"):
        load_config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(scalar)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path) -> None:
    load_config(path)


@pytest.mark.slow
def test_old_depth_key_trains_with_one_line(tmp_path: Path) -> None:
    """``network.depth``, the old name of ``network.layers``, still trains: one line on
    stderr says so, and the run's resolved config uses the new name."""
    config = tmp_path / "old.yaml"
    config.write_text("name: old\nnetwork:\n  hidden: 32\n  depth: 1\n")
    result = run_cli(
        "train",
        str(config),
        "total_timesteps=64",
        "env.n_envs=1",
        "env.robots=[panda]",
        "algo.n_steps=64",
        "algo.batch_size=64",
        "algo.n_epochs=1",
        "eval.freq=0",
        "checkpoint.freq=0",
        f"runs_dir={tmp_path / 'runs'}",
    )
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "network.depth" in line]
    assert said == ["network.depth is deprecated: read as network.layers=1"], result.stderr
    (resolved,) = (tmp_path / "runs").glob("*/config.yaml")
    network = yaml.safe_load(resolved.read_text())["network"]
    assert network["layers"] == 1 and "depth" not in network
