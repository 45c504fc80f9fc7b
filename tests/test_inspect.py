"""``deepwe-rl inspect`` on short real runs trained through the CLI, read back from its files
and from a live TensorBoard server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cli_runs import TINY, only_run, run_cli, tensorboard_server

pytestmark = pytest.mark.slow

HELD_OUT_ROBOT = "xarm6"  # real-heldout: never in a training split


def _train(runs: Path, *extra: str) -> Path:
    result = run_cli("train", "configs/quickstart.yaml", *TINY, *extra, f"runs_dir={runs}")
    assert result.returncode == 0, result.stderr
    return only_run(runs)


@pytest.fixture(scope="module")
def deepwe_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny DeepWe run, inspected once with the default robots."""
    run = _train(tmp_path_factory.mktemp("deepwe"))
    result = run_cli("inspect", str(run))
    assert result.returncode == 0, result.stderr
    return run


def test_inspect_writes_the_projector_files(deepwe_run: Path) -> None:
    for folder in (deepwe_run / "inspect", deepwe_run / "tb" / "inspect"):
        config = (folder / "projector_config.pbtxt").read_text()
        assert "robot_embedding" in config and "joint_embedding" in config
        robot_dir = next(folder.rglob("robot_embedding"))
        rows = (robot_dir / "tensors.tsv").read_text().splitlines()
        meta = (robot_dir / "metadata.tsv").read_text().splitlines()
        assert meta[0].split("\t") == ["name", "joints", "category", "gripper", "reach_m"]
        assert len(rows) == len(meta) - 1
        names = {line.split("\t")[0]: line.split("\t") for line in meta[1:]}
        assert {"panda", "proc:2:0", HELD_OUT_ROBOT} <= set(names)
        assert names[HELD_OUT_ROBOT][2] == "real-heldout"
        assert names["panda"][2] == "train"
        joint_dir = next(folder.rglob("joint_embedding"))
        joint_meta = (joint_dir / "metadata.tsv").read_text().splitlines()
        assert joint_meta[0].split("\t") == ["robot", "joint", "axis"]
        xarm = [line for line in joint_meta[1:] if line.startswith(f"{HELD_OUT_ROBOT}\t")]
        assert len(xarm) == 6
        widths = {len(r.split("\t")) for r in (joint_dir / "tensors.tsv").read_text().splitlines()}
        assert len(widths) == 1
    assert not [p for p in deepwe_run.iterdir() if p.name.startswith(".inspect")]


def _robot_names(run: Path) -> list[str]:
    meta = next((run / "inspect").rglob("robot_embedding")) / "metadata.tsv"
    return [line.split("\t")[0] for line in meta.read_text().splitlines()[1:]]


def test_heat_maps_and_similarity_have_the_robots_shapes(deepwe_run: Path) -> None:
    folder = deepwe_run / "inspect"
    names = _robot_names(deepwe_run)
    similarity = json.loads((folder / "similarity.json").read_text())
    assert similarity["robots"] == names
    for key in ("weights", "descriptors"):
        grid = np.array(similarity[key])
        assert grid.shape == (len(names), len(names))
        np.testing.assert_allclose(np.diag(grid), 1.0, atol=1e-5)
    shapes = json.loads((folder / "weights.json").read_text())
    assert list(shapes) == names
    assert shapes["panda"]["code"][0] == 7 and shapes[HELD_OUT_ROBOT]["code"][0] == 6
    assert len({tuple(s["code"][1:]) for s in shapes.values()}) == 1
    assert shapes["panda"]["distance_to_nearest_training_robot"] == 0.0
    assert shapes[HELD_OUT_ROBOT]["distance_to_nearest_training_robot"] > 0.0
    for name in ("similarity.png", "weights_pair.png", "weights/panda.png", "weights/xarm6.png"):
        assert (folder / name).stat().st_size > 0
    assert not list((deepwe_run / "tb" / "inspect").rglob("*.png"))
    attributed = json.loads((folder / "attribution.json").read_text())
    assert attributed["proc:2:0"]["joints"][2:] == [0.0] * 6


def test_inspect_writes_the_perturbation_heat_map(deepwe_run: Path) -> None:
    folder = deepwe_run / "inspect"
    assert (folder / "perturbation.png").stat().st_size > 0
    perturbed = json.loads((folder / "perturbation.json").read_text())
    assert list(perturbed) == list(json.loads((folder / "attribution.json").read_text()))
    assert perturbed["proc:2:0"]["joints"][2:] == [0.0] * 6
    assert all(v > 0.0 for v in perturbed["proc:2:0"]["joints"][:2])
    assert perturbed["panda"]["streams"]["depth"] == 0.0


def test_inspect_exports_the_robot_embeddings_pca(deepwe_run: Path) -> None:
    """The robot embeddings' first two principal components, one row per projector robot."""
    folder = deepwe_run / "inspect"
    pca = json.loads((folder / "embedding_pca.json").read_text())
    assert [r["name"] for r in pca["robots"]] == _robot_names(deepwe_run)
    assert {r["name"]: r["category"] for r in pca["robots"]}[HELD_OUT_ROBOT] == "real-heldout"
    first, second = pca["explained_variance_ratio"]
    assert 1.0 >= first >= second >= 0.0 and first + second <= 1.0 + 1e-6
    assert abs(sum(r["pc1"] for r in pca["robots"])) < 1e-3  # centred over these robots
    assert (folder / "embedding_pca.png").stat().st_size > 0


def test_inspect_after_transfer_draws_distance_against_success(
    deepwe_run: Path,
) -> None:
    """Two robots asked, after a transfer on them (this replaces the default inspection, so it
    runs after the tests that read that)."""
    result = run_cli("transfer", str(deepwe_run), "--robots", "panda,xarm6", "--episodes", "1")
    assert result.returncode == 0, result.stderr
    result = run_cli("inspect", str(deepwe_run), "--robots", "panda,xarm6")
    assert result.returncode == 0, result.stderr
    folder = deepwe_run / "inspect"
    similarity = json.loads((folder / "similarity.json").read_text())
    assert similarity["robots"] == ["panda", "xarm6"]
    assert np.array(similarity["weights"]).shape == (2, 2)
    assert (folder / "transfer_distance.png").stat().st_size > 0
    assert _robot_names(deepwe_run) == ["panda", "xarm6"]


def test_tensorboard_server_lists_the_projector(deepwe_run: Path) -> None:
    with tensorboard_server(deepwe_run / "tb") as get:
        deadline, runs, plugins = time.time() + 90, [], {}
        # The projector plugin finds its configs in a background thread: poll until it has.
        while time.time() < deadline and not (
            plugins.get("projector", {}).get("enabled") and "inspect" in runs
        ):
            time.sleep(1)
            plugins = get("plugins_listing") or {}
            runs = get("plugin/projector/runs") or []
        assert "projector" in plugins, sorted(plugins)
        assert plugins["projector"]["enabled"], plugins["projector"]
        assert "inspect" in runs, runs


def test_inspect_mlp_run_names_the_skipped_views(tmp_path: Path) -> None:
    run = _train(tmp_path / "mlp", "network.kind=mlp")
    result = run_cli("inspect", str(run), "--robots", "panda")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for view in ("embedding projector", "generated-weight heat maps", "weight-space similarity"):
        assert f"skipped {view}: not applicable to a mlp network" in result.stdout
    assert not (run / "inspect" / "projector_config.pbtxt").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "run directory not found"),
        (["{run}", "--robots", "robot_that_does_not_exist"], "unknown robot"),
        (["{run}", "--split", "no-such-split"], "unknown split"),
        (["{run}", "--noise", "0"], "--noise must be above 0"),
    ],
)
def test_inspect_bad_input_is_one_line_and_exit_2(
    deepwe_run: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    before = sorted(p.name for p in deepwe_run.iterdir())
    mtime = (deepwe_run / "inspect").stat().st_mtime_ns
    argv = [a.format(run=deepwe_run, missing=tmp_path / "nope") for a in args]
    result = run_cli("inspect", *argv)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in deepwe_run.iterdir()) == before
    assert (deepwe_run / "inspect").stat().st_mtime_ns == mtime


def _three_joint_reach_obs() -> dict:
    """A real env's observations of a 3-joint arm without a gripper in Reach (no object), its
    padded joint rows and absent streams then filled with garbage."""
    import torch

    from deepwe_rl.envs.vector import make_env

    env = make_env("reach", "proc:3:0", max_joints=8)
    batch = [env.reset(seed=s)[0] for s in range(4)]
    env.close()
    obs = {
        k: torch.as_tensor(np.stack([b[k] for b in batch]), dtype=torch.float32) for k in batch[0]
    }
    assert obs["stream_mask"][0].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    obs["joint_state"][:, 3:] = 5.0
    obs["gripper"][:] = 3.0
    obs["object"][:] = -2.0
    return obs


def _assert_zero_where_absent(result) -> None:
    """Exactly zero for padded joints and absent streams, above zero for every real one."""
    assert (result.joints[3:] == 0.0).all()
    assert (result.joints[:3] > 0.0).all()
    assert result.streams["gripper"] == 0.0 and result.streams["object"] == 0.0
    assert result.streams["depth"] == 0.0
    assert result.streams["ee"] > 0.0 and result.streams["goal"] > 0.0


def _policy(kind: str):
    import torch

    from deepwe_rl.nn.config import NetworkConfig
    from deepwe_rl.nn.factory import build_actor_critic

    torch.manual_seed(0)
    return build_actor_critic(NetworkConfig(kind=kind, hidden=64), 8).eval()


@pytest.mark.parametrize("kind", ["deepwe", "mlp"])
def test_attribution_is_zero_for_padded_joints_and_absent_streams(kind: str) -> None:
    """Gradient x input on a 3-joint arm's observations with garbage padding: exactly zero
    where the arm has nothing, and not zero for each real joint."""
    from deepwe_rl.agents.inspect.attribution import attribution

    _assert_zero_where_absent(attribution(_policy(kind), _three_joint_reach_obs()))


@pytest.mark.parametrize("kind", ["deepwe", "mlp", "transformer"])
def test_perturbation_is_zero_for_padded_joints_and_absent_streams(kind: str) -> None:
    """Noise on one joint's row or one stream at a time: the action moves for each real joint
    and stream and not at all for the padding or the absent streams; the same seed gives the
    same numbers, and noise ten times larger moves the action more."""
    from deepwe_rl.agents.inspect.attribution import perturbation

    policy, obs = _policy(kind), _three_joint_reach_obs()
    result = perturbation(policy, obs, scale=0.05)
    _assert_zero_where_absent(result)
    again = perturbation(policy, obs, scale=0.05)
    np.testing.assert_array_equal(result.joints, again.joints)
    assert result.streams == again.streams
    larger = perturbation(policy, obs, scale=0.5)
    assert larger.joints[:3].sum() > result.joints[:3].sum()
