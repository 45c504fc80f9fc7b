"""The RLlib backend: masked action distribution, module, robot assignment, and one tiny
training run (shared by the slow tests) checked for logs, checkpoints, loading and resuming.

The slow tests share one embedded Ray session. The last test checks that nothing of theirs
went to ~/ray_results, so it must run after the others (pytest keeps file order).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.env.env_context import EnvContext
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from deepwe_rl.agents import training
from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.interrupts import TrainingInterrupted
from deepwe_rl.agents.ray_cluster import ray_session
from deepwe_rl.agents.rllib.algorithm import check_config
from deepwe_rl.agents.rllib.checkpoints import FINAL, MODULE_IN_CHECKPOINT
from deepwe_rl.agents.rllib.distribution import MaskedDiagGaussian, dist_inputs
from deepwe_rl.agents.rllib.loop import sampled_steps
from deepwe_rl.agents.rllib.mixed_robot_env import MixedRobotEnv, env_config, robot_for
from deepwe_rl.agents.rllib.module import ActorCriticModule, module_config
from deepwe_rl.agents.rllib.train import train
from deepwe_rl.agents.run_dir import RunDir, create_run_dir, open_run_dir
from deepwe_rl.agents.transfer.evaluate import transfer
from deepwe_rl.config import ConfigError, RaySection, RunConfig, dump_config

ROBOTS = ["panda", "proc:3:0"]
RAY_RESULTS = Path.home() / "ray_results"
TINY_NETWORK = {
    "hidden": 32,
    "desc_embed": 8,
    "hyper_hidden": 16,
    "stem_width": 8,
    "attn_dim": 16,
    "attn_heads": 2,
    "attn_layers": 1,
}


def tiny_config(runs_dir: Path, **overrides: object) -> RunConfig:
    """A run of 400 env steps: 1 env runner with 2 sub-envs (one per robot), 100 steps per
    PPO iteration, an evaluation and a checkpoint every 200 steps."""
    raw: dict[str, object] = {
        "name": "tiny",
        "backend": "rllib",
        "total_timesteps": 400,
        "runs_dir": str(runs_dir),
        # Episodes end only by truncation, so that RLlib samples exactly 100 steps per iteration
        # (it adds a step or two when an episode terminates mid-fragment).
        "env": {"robots": ROBOTS, "max_episode_steps": 20, "distance_threshold": 0.001},
        "network": TINY_NETWORK,
        "algo": {"n_steps": 50, "batch_size": 50, "n_epochs": 2},
        "eval": {"freq": 200, "episodes": 1},
        "checkpoint": {"freq": 200, "keep": 2},
        "ray": {"num_env_runners": 1, "envs_per_runner": 2, "num_cpus": 2},
    }
    raw.update(overrides)
    return RunConfig.model_validate(raw)


def scalar_steps(run: RunDir, tag: str) -> list[int]:
    events = EventAccumulator(str(run.tb))
    events.Reload()
    return [event.step for event in events.Scalars(tag)]


def listing(path: Path) -> list[tuple[str, float]]:
    """Every entry under ``path`` with its modification time (empty when ``path`` is absent)."""
    if not path.exists():
        return []
    return sorted((str(p), p.stat().st_mtime) for p in [path, *path.rglob("*")])


# --- no Ray ----------------------------------------------------------------------------------


def test_masked_gaussian_ignores_absent_slots() -> None:
    torch.manual_seed(0)
    mean, log_std = torch.randn(4, 9), 0.3 * torch.randn(4, 9)
    mask = torch.zeros(4, 9)
    mask[:, :3] = 1.0
    mask[:2, 8] = 1.0  # two robots with a gripper, two without
    dist = MaskedDiagGaussian.from_logits(dist_inputs(mean, log_std, mask))
    action = dist.sample()
    assert torch.all(action[mask == 0] == 0)

    present = mask > 0.5
    noisy = torch.where(present, action, 100 * torch.randn_like(action))
    noisy[3, 5] = float("inf")
    assert torch.equal(dist.logp(noisy), dist.logp(action))
    reference = torch.distributions.Normal(mean, log_std.exp()).log_prob(action)
    assert torch.allclose(dist.logp(action), (reference * mask).sum(-1))

    # Parameters of absent slots change nothing either: entropy, KL and log-prob stay put.
    other_mean = torch.where(present, mean, torch.randn_like(mean))
    other_log_std = torch.where(present, log_std, torch.randn_like(log_std))
    other = MaskedDiagGaussian.from_logits(dist_inputs(other_mean, other_log_std, mask))
    assert torch.equal(other.logp(action), dist.logp(action))
    assert torch.equal(other.entropy(), dist.entropy())
    assert torch.allclose(dist.kl(other), torch.zeros(4))


@pytest.mark.parametrize("kind", ["deepwe", "mlp", "transformer"])
def test_module_masks_the_slots_a_robot_lacks(kind: str) -> None:
    cfg = tiny_config(Path("unused"), network={**TINY_NETWORK, "kind": kind})
    env = single_env(cfg.env, "proc:3:0")
    module = ActorCriticModule(
        observation_space=env.observation_space,
        action_space=env.action_space,
        model_config=module_config(cfg),
    )
    obs, _ = env.reset(seed=0)
    batch = {Columns.OBS: {k: torch.as_tensor(np.stack([v, v])) for k, v in obs.items()}}
    inputs = module.forward_exploration(batch)[Columns.ACTION_DIST_INPUTS]
    assert inputs.shape == (2, 3 * 9)
    dist = MaskedDiagGaussian.from_logits(inputs)
    action = dist.sample()
    assert torch.all(action[:, 3:] == 0)  # 3 joints, no gripper
    padded = action.clone()
    padded[:, 3:] = 5.0
    assert torch.equal(dist.logp(padded), dist.logp(action))

    train_out = module.forward_train(batch)
    values = module.compute_values(batch)
    assert values.shape == (2,)
    assert torch.allclose(module.compute_values(batch, train_out[Columns.EMBEDDINGS]), values)
    env.close()


def test_both_backends_start_ppo_at_log_std_init() -> None:
    """``algo.log_std_init`` is where PPO's learned, state-independent log-std starts on both
    backends: the entropy of every robot's action distribution is that of its real slots
    (panda: 7 joints and a gripper; proc:3:0: 3 joints) at that log-std, and it trains the
    log-std parameter."""
    from deepwe_rl.agents.sb3.train import _new_model, _vec_env

    log_std = -1.5
    cfg = tiny_config(
        Path("unused"), algo={"n_steps": 50, "batch_size": 50, "log_std_init": log_std}
    )
    venv = _vec_env(cfg.model_copy(update={"backend": "sb3"}), ROBOTS)
    obs = venv.reset()  # 4 envs, robots round robin
    expected = torch.tensor([8.0, 3.0, 8.0, 3.0]) * (log_std + 0.5 * (1 + np.log(2 * np.pi)))

    sb3 = _new_model(cfg.model_copy(update={"backend": "sb3"}), venv).policy
    tensors = sb3.obs_to_tensor(obs)[0]
    actions = torch.zeros(4, cfg.env.max_joints + 1)
    sb3_entropy = sb3.evaluate_actions(tensors, actions)[2]

    module = ActorCriticModule(
        observation_space=venv.observation_space,
        action_space=venv.action_space,
        model_config=module_config(cfg),
    )
    batch = {Columns.OBS: {k: torch.as_tensor(v) for k, v in obs.items()}}
    rllib_entropy = {
        name: MaskedDiagGaussian.from_logits(out[Columns.ACTION_DIST_INPUTS]).entropy()
        for name, out in (
            ("rollout", module.forward_exploration(batch)),
            ("train", module.forward_train(batch)),
        )
    }
    venv.close()
    for name, entropy in [("sb3", sb3_entropy), *rllib_entropy.items()]:
        torch.testing.assert_close(entropy, expected, msg=name)
    for model, entropy in ((sb3, sb3_entropy), (module, rllib_entropy["train"])):
        entropy.sum().backward()
        assert model.log_std.grad is not None and torch.all(model.log_std.grad != 0)


def test_sub_envs_get_robots_round_robin(monkeypatch: pytest.MonkeyPatch) -> None:
    robots = ["panda", "proc:3:0", "proc:5:0"]
    # 2 runners x 2 sub-envs: slots 0..3.
    assert [robot_for(robots, 2, w, v) for w in (1, 2) for v in (0, 1)] == [
        "panda",
        "proc:3:0",
        "proc:5:0",
        "panda",
    ]
    assert robot_for(robots, 2, 0, 1) == "proc:3:0"  # the driver's runner, no remote ones

    cfg = tiny_config(Path("unused"))
    monkeypatch.setattr(MixedRobotEnv, "built", 0)
    context = EnvContext(env_config(cfg.env, robots, 2), worker_index=2)
    envs = [MixedRobotEnv(context) for _ in range(2)]
    assert [env.reset(seed=0)[1]["robot"] for env in envs] == ["proc:5:0", "panda"]
    for env in envs:
        env.close()


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"algo\.name: the rllib backend supports ppo only"):
        training.check_run_config(tiny_config(Path("unused"), algo={"name": "sac"}))
    with pytest.raises(ConfigError, match=r"algo\.batch_size"):
        check_config(tiny_config(Path("unused"), algo={"n_steps": 10, "batch_size": 64}))


# --- one tiny run on a shared Ray session ----------------------------------------------------


@pytest.fixture(scope="module")
def ray_results_before() -> list[tuple[str, float]]:
    return listing(RAY_RESULTS)


@pytest.fixture(scope="module")
def shared_ray(ray_results_before: list[tuple[str, float]]) -> Iterator[None]:
    with ray_session(RaySection(num_env_runners=1, num_cpus=2)):
        yield


@pytest.fixture(scope="module")
def trained_run(shared_ray: None, tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    cfg = tiny_config(tmp_path_factory.mktemp("runs"))
    run = create_run_dir(cfg)
    train(training.check_run_config(cfg), run)
    return run


@pytest.mark.slow
def test_tensorboard_has_rollout_train_time_and_eval_scalars(trained_run: RunDir) -> None:
    events = EventAccumulator(str(trained_run.tb))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    for tag in (
        "rollout/success_rate",
        "rollout/return",
        "rollout/episode_length",
        "train/policy_loss",
        "train/value_loss",
        "train/entropy",
        "time/fps",
        "eval/success_rate",
        "eval/panda/success_rate",
    ):
        assert tag in tags, tag
    # One env runner hosts both robots: its episodes cover each of them.
    for robot in ROBOTS:
        assert f"rollout/{robot}/success_rate" in tags
    assert scalar_steps(trained_run, "rollout/return") == [100, 200, 300, 400]
    assert scalar_steps(trained_run, "eval/success_rate") == [200, 400]
    assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")
    saved = json.loads((trained_run.eval / "eval_000000400.json").read_text())
    assert saved["step"] == 400
    assert set(saved["robots"]) == set(ROBOTS)


@pytest.mark.slow
def test_checkpoints_restore_as_algorithms(trained_run: RunDir) -> None:
    from ray.rllib.algorithms.algorithm import Algorithm

    assert sorted(p.name for p in trained_run.checkpoints.iterdir()) == [
        "step_000000200",
        "step_000000400",
    ]
    assert (trained_run.path / FINAL / MODULE_IN_CHECKPOINT).is_dir()
    algo = Algorithm.from_checkpoint(str(trained_run.path / FINAL))
    try:
        assert sampled_steps(algo) == 400
        assert isinstance(algo.get_module(), ActorCriticModule)
    finally:
        algo.stop()


@pytest.mark.slow
def test_training_moves_the_learned_log_std(trained_run: RunDir) -> None:
    module = RLModule.from_checkpoint(trained_run.path / FINAL / MODULE_IN_CHECKPOINT)
    initial = torch.full((2,), tiny_config(Path("unused")).algo.log_std_init)
    assert module.log_std.shape == (2,) and not torch.equal(module.log_std.detach(), initial)


LOAD_WITHOUT_RAY = """
import json, sys
import numpy as np
import ray
from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.rllib.train import load_policy
from deepwe_rl.agents.run_dir import open_run_dir

run = open_run_dir(sys.argv[1])
policy = load_policy(run)
cfg = run.config()
obs = [single_env(cfg.env, robot).reset(seed=0)[0] for robot in sys.argv[2:]]
batch = {key: np.stack([o[key] for o in obs]) for key in obs[0]}
actions = policy(batch)
print(json.dumps({
    "shape": list(actions.shape),
    "finite": bool(np.isfinite(actions).all()),
    "bounded": bool(np.all(np.abs(actions) <= 1.0)),
    "deterministic": bool(np.array_equal(actions, policy(batch))),
    "padded_zero": bool(np.all(actions[1, 3:] == 0.0)),
    "ray_initialized": ray.is_initialized(),
}))
"""


@pytest.mark.slow
def test_load_policy_needs_no_ray(trained_run: RunDir) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_RAY, str(trained_run.path), *ROBOTS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "shape": [2, 9],
        "finite": True,
        "bounded": True,
        "deterministic": True,
        "padded_zero": True,
        "ray_initialized": False,
    }


@pytest.mark.slow
def test_resume_continues_steps_and_curves(trained_run: RunDir, tmp_path: Path) -> None:
    run = open_run_dir(shutil.copytree(trained_run.path, tmp_path / "run"))
    cfg = run.config().model_copy(update={"total_timesteps": 600})
    run.config_path.write_text(dump_config(cfg))
    training.resume(run)
    assert run.latest_checkpoint() == (600, run.checkpoint_path(600))
    assert scalar_steps(run, "rollout/return") == [100, 200, 300, 400, 500, 600]
    assert scalar_steps(run, "eval/success_rate") == [200, 400, 600]


@pytest.mark.slow
def test_init_from_loads_the_trained_module(trained_run: RunDir, tmp_path: Path) -> None:
    """With a vanishing learning rate, a run started from the trained one ends with its
    weights."""
    cfg = tiny_config(
        tmp_path,
        total_timesteps=100,
        eval={"freq": 0},
        init_from=str(trained_run.path),
        algo={"n_steps": 50, "batch_size": 50, "n_epochs": 1, "learning_rate": 1e-12},
    )
    run = create_run_dir(cfg)
    train(training.check_run_config(cfg), run)
    source = RLModule.from_checkpoint(trained_run.path / FINAL / MODULE_IN_CHECKPOINT)
    child = RLModule.from_checkpoint(run.path / FINAL / MODULE_IN_CHECKPOINT)
    expected = source.state_dict()
    for name, value in child.state_dict().items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-6, msg=name)


@pytest.mark.slow
def test_transfer_on_an_rllib_run(trained_run: RunDir) -> None:
    run = open_run_dir(trained_run.path)
    result, folder = transfer(run, ["proc:4:100", "panda"], 1, finetune_steps=100)
    assert [z.category for z in result.zero_shot] == ["train", "extrapolate"]
    assert {(c.robot, c.condition) for c in result.curves} == {
        ("proc:4:100", "finetuned"),
        ("proc:4:100", "scratch"),
    }
    assert all(c.steps[-1] >= 100 for c in result.curves)  # RLlib samples whole iterations
    assert (folder / "transfer.json").is_file() and (folder / "heatmap.png").is_file()


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_raises(shared_ray: None, tmp_path: Path) -> None:
    cfg = tiny_config(
        tmp_path, total_timesteps=100_000, checkpoint={"freq": 100, "keep": 5}, eval={"freq": 0}
    )
    run = create_run_dir(cfg)

    def terminate_after_first_checkpoint() -> None:
        while run.latest_checkpoint() is None:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_after_first_checkpoint, daemon=True).start()
    with pytest.raises(TrainingInterrupted) as stopped:
        train(training.check_run_config(cfg), run)
    assert stopped.value.step >= 100
    assert stopped.value.checkpoint == run.checkpoint_path(stopped.value.step)
    assert stopped.value.checkpoint.is_dir()


@pytest.mark.slow
def test_nothing_written_to_ray_results(
    trained_run: RunDir, ray_results_before: list[tuple[str, float]]
) -> None:
    assert listing(RAY_RESULTS) == ray_results_before
