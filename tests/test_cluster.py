"""Rollouts on a real two-node Ray cluster started on this machine: a head node and a worker
node, separate processes on loopback addresses (``ray.cluster_utils.Cluster``).

One RLlib PPO run and one SB3 PPO run through the Ray VecEnv join the cluster by
``ray.address``, as a user's config would. Each run has one of its env runners or env actors
killed (SIGKILL) at a known point, just after its first checkpoint, by a hook that runs in the
run's own code path (no timing thread), and must still finish with the expected step count,
the restart on its TensorBoard curves, and rollouts on the worker node. A kill that could not
be made is a test failure that says so. The config errors of a cluster that cannot fit a run,
or of an address where no cluster answers, are one line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from deepwe_rl.agents import training
from deepwe_rl.agents.env_factory import training_env_fns
from deepwe_rl.agents.ray_cluster import ray_session
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.sb3 import callbacks
from deepwe_rl.config import RaySection, RunConfig, load_config
from tests.processes import command_line, descendants
from tests.ray_faults import KILLED, assert_killed, kill_an_env_runner_after_first_checkpoint

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
LOOPBACK = "127.0.0.2"
"""The nodes' address. Ray 2.60 rewrites 127.0.0.1 in a driver's ``ray.init`` address to this
machine's network address, so the cluster uses another loopback address."""
NODE_MEMORY = 100 * 2**20
TINY = ["network.hidden=32", "network.desc_embed=8", "network.hyper_hidden=16"]
TINY += ["network.stem_width=8", "env.robots=[panda,proc:3:0]", "env.max_episode_steps=20"]


@dataclass(frozen=True)
class TwoNodes:
    address: str
    head_id: str
    worker_id: str


@pytest.fixture(scope="module")
def cluster() -> Iterator[TwoNodes]:
    """A head node with 1 CPU and a worker node with 3. Ray's temp dir is private to the
    fixture, so no other Ray on this machine finds this cluster's address file."""
    import ray
    from ray.cluster_utils import Cluster

    previous = os.environ.get("RAY_TMPDIR")
    temp = tempfile.mkdtemp(prefix="dwr", dir="/tmp")  # short: Ray's socket paths must fit
    os.environ["RAY_TMPDIR"] = temp
    nodes = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "include_dashboard": False,
            "node_ip_address": LOOPBACK,
            "object_store_memory": NODE_MEMORY,
        },
    )
    try:
        worker = nodes.add_node(
            num_cpus=3, node_ip_address=LOOPBACK, object_store_memory=NODE_MEMORY
        )
        nodes.wait_for_nodes()
        yield TwoNodes(nodes.address, nodes.head_node.node_id, worker.node_id)
    finally:
        ray.shutdown()
        nodes.shutdown()
        if previous is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = previous
        shutil.rmtree(temp, ignore_errors=True)


def kill_an_env_actor_at_first_checkpoint(patch: pytest.MonkeyPatch, runs: Path) -> None:
    """Make the SB3 run in ``runs`` lose an env actor at its first checkpoint: right after
    saving it, in the training loop between env steps, a SIGKILL to one of this test's
    ``ray::EnvGroup`` processes, its pid written to ``runs/killed.pid`` (or, when none is
    found, that). The env actors have no Ray restarts, so the next step on the dead actor fails
    for certain."""
    save, marker = callbacks.save_checkpoint, runs / KILLED

    def save_then_kill(*args: Any) -> str:
        path = save(*args)
        if not marker.exists():
            victims = [
                p for p in descendants(os.getpid()) if command_line(p).startswith("ray::EnvGroup")
            ]
            if victims:
                os.kill(victims[0], signal.SIGKILL)
            marker.write_text(
                str(victims[0]) if victims else "no ray::EnvGroup process at the first checkpoint"
            )
        return path

    patch.setattr(callbacks, "save_checkpoint", save_then_kill)


def events(run: RunDir) -> EventAccumulator:
    acc = EventAccumulator(str(run.tb), size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    return acc


def placement_texts(run: RunDir) -> list[str]:
    """Every ``cluster/rollout_nodes`` table the run wrote."""
    return [
        event.tensor_proto.string_val[0].decode()
        for event in events(run).Tensors("cluster/rollout_nodes/text_summary")
    ]


def scalar(run: RunDir, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in events(run).Scalars(tag)]


@pytest.fixture(scope="module")
def rllib_run(cluster: TwoNodes, tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """RLlib PPO, 2 env runners x 1 sub-env, 50 env steps per iteration, 300 in all; one env
    runner killed after the first checkpoint."""
    runs = tmp_path_factory.mktemp("rllib")
    cfg = load_config(
        ROOT / "configs/rllib_ppo.yaml",
        [
            *TINY,
            "total_timesteps=300",
            "algo.n_steps=25",
            "algo.batch_size=50",
            "algo.n_epochs=1",
            "eval.freq=0",
            "checkpoint.freq=50",
            "checkpoint.keep=1",
            f"ray.address={cluster.address}",
            "ray.num_env_runners=2",
            "ray.envs_per_runner=1",
            "ray.num_cpus=null",
            f"runs_dir={runs}",
        ],
    )
    with pytest.MonkeyPatch.context() as patch:
        kill_an_env_runner_after_first_checkpoint(patch, runs)
        return training.start(cfg)


@pytest.fixture(scope="module")
def sb3_run(cluster: TwoNodes, tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """SB3 PPO through the Ray VecEnv: 4 envs in 2 env actors, 128 env steps per rollout,
    1024 in all; one env actor killed after the first checkpoint."""
    runs = tmp_path_factory.mktemp("sb3")
    cfg = load_config(
        ROOT / "configs/quickstart.yaml",
        [
            *TINY,
            "total_timesteps=1024",
            "env.n_envs=4",
            "env.vec=ray",
            "algo.n_steps=32",
            "algo.batch_size=64",
            "algo.n_epochs=1",
            "eval.freq=0",
            "checkpoint.freq=128",
            "checkpoint.keep=1",
            f"ray.address={cluster.address}",
            "ray.envs_per_runner=2",
            f"runs_dir={runs}",
        ],
    )
    with pytest.MonkeyPatch.context() as patch:
        kill_an_env_actor_at_first_checkpoint(patch, runs)
        return training.start(cfg)


def test_rllib_rollouts_run_on_the_worker_node(rllib_run: RunDir, cluster: TwoNodes) -> None:
    texts = placement_texts(rllib_run)
    assert texts and cluster.worker_id in texts[0], texts
    assert (rllib_run.path / "rllib_checkpoint").is_dir()
    assert scalar(rllib_run, "rollout/return")


def test_rllib_survives_a_killed_env_runner(rllib_run: RunDir) -> None:
    assert_killed(rllib_run.path.parent, "env runner")
    restarts = scalar(rllib_run, "faults/env_runner_restarts")
    assert restarts[0][1] == 0 and restarts[-1][1] >= 1, restarts
    # Every iteration still sampled its 50 steps: the healthy runner sampled twice meanwhile.
    assert [step for step, _ in scalar(rllib_run, "time/fps")] == list(range(50, 301, 50))
    assert rllib_run.latest_checkpoint() == (300, rllib_run.checkpoint_path(300))
    assert len(placement_texts(rllib_run)) == 2  # again after the restart


def test_sb3_rollouts_run_on_the_worker_node(sb3_run: RunDir, cluster: TwoNodes) -> None:
    texts = placement_texts(sb3_run)
    assert texts and cluster.worker_id in texts[0], texts
    assert scalar(sb3_run, "rollout/proc:3:0/return")


def test_sb3_survives_a_killed_env_actor(sb3_run: RunDir) -> None:
    from stable_baselines3 import PPO

    assert_killed(sb3_run.path.parent, "env actor")
    restarts = scalar(sb3_run, "faults/env_actor_restarts")
    assert restarts[0] == (128, 0.0) and restarts[-1] == (1024, 1.0), restarts
    texts = placement_texts(sb3_run)
    assert len(texts) == 2 and texts[0] != texts[1]  # the new actor's process is listed
    assert PPO.load(sb3_run.path / "model.zip", device="cpu").num_timesteps == 1024


def test_ray_vec_env_steps_like_dummy_vec_env(cluster: TwoNodes) -> None:
    """Same seeds, same actions: the same observations, rewards, dones and terminal
    observations as SB3's DummyVecEnv, across an episode end (20-step episodes)."""
    from deepwe_rl.agents.sb3.ray_vec_env import RayVecEnv

    cfg = RunConfig.model_validate(
        {"env": {"robots": ["panda", "proc:3:0"], "n_envs": 3, "max_episode_steps": 20}}
    )
    fns = training_env_fns(cfg.env, ["panda", "proc:3:0"])
    with ray_session(RaySection(address=cluster.address)):
        remote, local = RayVecEnv(fns, envs_per_actor=2), DummyVecEnv(fns)
        try:
            remote.seed(7)
            local.seed(7)
            obs_r, obs_l = remote.reset(), local.reset()
            rng, ended = np.random.default_rng(0), False
            for _ in range(25):
                actions = rng.uniform(-1, 1, (3, *remote.action_space.shape)).astype(np.float32)
                obs_r, rew_r, done_r, info_r = remote.step(actions)
                obs_l, rew_l, done_l, info_l = local.step(actions)
                for key in obs_l:
                    np.testing.assert_allclose(obs_r[key], obs_l[key], atol=1e-6)
                np.testing.assert_allclose(rew_r, rew_l, atol=1e-6)
                assert np.array_equal(done_r, done_l)
                ended |= bool(done_l.any())
                for a, b in zip(info_r, info_l, strict=True):
                    assert a["robot"] == b["robot"]
                    assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
                    if "terminal_observation" in b:
                        np.testing.assert_allclose(
                            a["terminal_observation"]["ee"], b["terminal_observation"]["ee"]
                        )
            assert ended  # the loop crossed the 20-step time limit
            assert remote.get_attr("robot") == ["panda", "proc:3:0", "panda"]
            # The other VecEnv calls reach the right env of the right actor, as in DummyVecEnv.
            for wrapper in (TimeLimit, Monitor):
                assert remote.env_is_wrapped(wrapper) == local.env_is_wrapped(wrapper)
            assert remote.env_method("get_wrapper_attr", "robot", indices=[1, 2]) == [
                "proc:3:0",
                "panda",
            ]
            remote.set_attr("probe", 5, indices=[2])
            assert remote.get_attr("probe", indices=[2]) == [5]
        finally:
            remote.close()
            local.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepwe_rl.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["configs/rllib_ppo.yaml", "ray.num_env_runners=4", "ray.num_cpus=null"],
            "needs 5 CPUs (4 env runners + 1 for the driver) but the cluster at",
        ),
        (
            ["configs/quickstart.yaml", "env.vec=ray", "env.n_envs=8", "ray.envs_per_runner=2"],
            "needs 5 CPUs (4 env actors + 1 for the driver) but the cluster at",
        ),
    ],
)
def test_a_cluster_too_small_stops_the_run_with_one_line(
    cluster: TwoNodes, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli("train", *args, f"ray.address={cluster.address}", f"runs_dir={tmp_path}")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert message in lines[-1] and "has 4" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("ray.address=127.0.0.2:1", "config error: ray.address: no Ray cluster answers at"),
        ("ray.num_cpus=1", "config error: ray: the run needs 2 CPUs"),
    ],
)
def test_bad_ray_settings_are_one_line(tmp_path: Path, override: str, message: str) -> None:
    result = run_cli("train", "configs/rllib_ppo.yaml", override, f"runs_dir={tmp_path}")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not any(tmp_path.iterdir())
