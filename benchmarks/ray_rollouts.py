"""Rollout throughput with and without Ray, side by side in one run on this machine.

- SB3 PPO with the ``dummy``, ``subproc`` and ``ray`` vector envs: the same ``--n-envs`` envs
  (Panda and three procedural arms, round robin), the same network and PPO settings; ``ray``
  puts them in env actors of ``--envs-per-actor`` envs each.
- RLlib PPO with 0, 1 and 2 env runners of ``--envs-per-actor`` sub-envs each.
- Ray's start-up cost: an embedded ``ray.init``, the Ray VecEnv's actors up with their envs
  built (against building a DummyVecEnv), and building RLlib's algorithm per runner count.
- The per-step costs a scaling estimate needs: one env step, one Ray actor round trip with and
  without an env step in it, the SB3 policy on 4 and 64 observations, and PPO's update per
  sample; and that estimate for 1 to 16 nodes.

Every contender is built once and then measured in interleaved rounds; figures are medians.
Env steps/s are given for rollouts alone (SB3's ``collect_rollouts``; RLlib's
``synchronous_parallel_sample``, as its PPO training step samples) and end to end (rollouts plus
the PPO update). Torch runs on one thread, as in training.

    python benchmarks/ray_rollouts.py [--rounds 3] [--rollouts 2] [--n-envs 4] [--envs-per-actor 2]

The last line printed is a JSON object with the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import ray
import torch
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.ray_cluster import connect
from deepwe_rl.agents.rllib.algorithm import build_config
from deepwe_rl.agents.rllib.loop import sampled_steps
from deepwe_rl.agents.sb3 import train as sb3_train
from deepwe_rl.agents.sb3.ray_vec_env import EnvGroup
from deepwe_rl.config import RaySection, RunConfig, load_config

ROOT = Path(__file__).parent.parent
ROBOTS = ["panda", "proc:3:0", "proc:5:0", "proc:7:0"]
COMMON = [
    "env.robots=[panda,proc:3:0,proc:5:0,proc:7:0]",
    "network.hidden=64",
    "network.desc_embed=32",
    "network.hyper_hidden=64",
    "network.stem_width=32",
    "algo.n_epochs=1",
    "eval.freq=0",
    "checkpoint.freq=0",
]
PPO = ["algo.n_steps=128", "algo.batch_size=128"]
VECS = ("dummy", "subproc", "ray")
RUNNERS = (0, 1, 2)
RAY_CPUS = 8
"""Logical CPUs of the embedded Ray: room for the Ray VecEnv's actors and RLlib's 1 + 2
runners side by side (Ray's CPUs are a scheduling count; all share this machine's cores)."""


class RolloutClock(BaseCallback):
    """Seconds spent collecting rollouts, summed over a ``learn`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self._start = 0.0

    def _on_rollout_start(self) -> None:
        self._start = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.seconds += time.perf_counter() - self._start

    def _on_step(self) -> bool:
        return True


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def sb3_model(vec: str, n_envs: int, per_actor: int) -> BaseAlgorithm:
    """SB3 PPO as a run of the quickstart config builds it (its private helpers, so the
    benchmark measures exactly what training uses)."""
    overrides = [f"env.vec={vec}", f"env.n_envs={n_envs}", f"ray.envs_per_runner={per_actor}"]
    cfg = load_config(ROOT / "configs/quickstart.yaml", [*COMMON, *PPO, *overrides])
    venv = sb3_train._vec_env(cfg, ROBOTS)
    return sb3_train._new_model(cfg, venv)


def sb3_round(model: BaseAlgorithm, rollouts: int) -> tuple[float, float]:
    """(rollout steps/s, end-to-end steps/s) over ``rollouts`` PPO iterations."""
    steps = rollouts * model.n_steps * model.n_envs
    clock = RolloutClock()
    _, seconds = timed(lambda: model.learn(steps, callback=clock, reset_num_timesteps=False))
    return steps / clock.seconds, steps / seconds


def rllib_algo(runners: int, per_runner: int, run_dir: Path) -> Algorithm:
    overrides = [f"ray.num_env_runners={runners}", f"ray.envs_per_runner={per_runner}"]
    cfg = load_config(ROOT / "configs/rllib_ppo.yaml", [*COMMON, *PPO, *overrides])
    return build_config(cfg, run_dir, ROBOTS).build_algo()


def rllib_round(algo: Algorithm, iterations: int) -> tuple[float, float]:
    """(sampling steps/s, end-to-end steps/s): ``iterations`` rounds of sampling alone, as
    PPO's training step samples, then ``iterations`` PPO iterations."""
    batch = algo.config.total_train_batch_size
    sampled, sampling = 0, 0.0
    for _ in range(iterations):
        episodes, took = timed(
            lambda: synchronous_parallel_sample(
                worker_set=algo.env_runner_group, max_env_steps=batch, _uses_new_env_runners=True
            )
        )
        sampled += sum(episode.env_steps() for episode in episodes)
        sampling += took
    # The steps sampled above reach the lifetime counter with the next train() result.
    before = sampled_steps(algo) + sampled
    _, seconds = timed(lambda: [algo.train() for _ in range(iterations)])
    return sampled / sampling, (sampled_steps(algo) - before) / seconds


def env_step_us(n: int = 1000) -> float:
    """One env step (Panda, random joint commands), resets included, in µs."""
    env = single_env(RunConfig().env, "panda")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (n, *env.action_space.shape)).astype(np.float32)
    start = time.perf_counter()
    for action in actions:
        if any(env.step(action)[2:4]):
            env.reset()
    took = time.perf_counter() - start
    env.close()
    return 1e6 * took / n


def ray_calls_us(n: int = 500) -> dict[str, float]:
    """Round trips to an env actor, in µs: a call that does nothing (Ray's own cost per call),
    and one env step (Panda) with its observation sent back."""
    actor = ray.remote(EnvGroup).options(num_cpus=1).remote([env_fn], "probe")
    ray.get(actor.reset.remote(0, [{}]))
    actions = np.zeros((1, *single_env(RunConfig().env, "panda").action_space.shape), np.float32)
    out = {}
    for name, call in (
        ("ray_noop_call_us", lambda: actor.where.remote()),
        ("ray_env_step_call_us", lambda: actor.step.remote(actions)),
    ):
        start = time.perf_counter()
        for _ in range(n):
            reply = ray.get(call())
            if isinstance(reply, bytes):  # a step's reply comes pickled
                pickle.loads(reply)
        out[name] = 1e6 * (time.perf_counter() - start) / n
    ray.kill(actor)
    return out


def env_fn() -> Any:
    return single_env(RunConfig().env, "panda")


def policy_us(model: BaseAlgorithm, batch: int, n: int = 50) -> float:
    """One SB3 policy call on ``batch`` observations (what a rollout does per vector step)."""
    obs = model.get_env().reset()
    obs = {
        key: np.concatenate([value] * (batch // len(value) + 1))[:batch]
        for key, value in obs.items()
    }
    model.policy.predict(obs)
    start = time.perf_counter()
    for _ in range(n):
        model.policy.predict(obs)
    return 1e6 * (time.perf_counter() - start) / n


def scaling_estimate(
    micro: dict[str, float], cores: int, envs_per_actor: int, nodes: tuple[int, ...]
) -> list[dict[str, float]]:
    """A paper estimate of SB3 PPO rollouts through the Ray VecEnv on ``nodes`` nodes of
    ``cores`` cores, from the measured per-step costs. The driver keeps one core, every other
    core holds an actor of ``envs_per_actor`` envs. One vector step costs the policy call on all
    envs (linear between the two measured batch sizes), the driver's share of each actor call
    (the payload part of a step call), one Ray round trip, and the slowest actor's envs.
    Network latency between machines is not in it: all of this was measured on one machine."""
    per_env = (micro["policy_64_us"] - micro["policy_4_us"]) / 60
    payload = max(
        micro["ray_env_step_call_us"] - micro["env_step_us"] - micro["ray_noop_call_us"], 0.0
    )
    rows = []
    for n in nodes:
        actors = n * cores - 1
        envs = actors * envs_per_actor
        policy = micro["policy_4_us"] + per_env * (envs - 4)
        step_us = (
            policy
            + actors * payload
            + micro["ray_noop_call_us"]
            + envs_per_actor * micro["env_step_us"]
        )
        rollout = 1e6 * envs / step_us
        train = 1.0 / (1.0 / rollout + 1e-6 * micro["update_us_per_sample"])
        rows.append(
            {"nodes": n, "actors": actors, "envs": envs, "rollout_steps_per_s": rollout,
             "train_steps_per_s": train}
        )  # fmt: skip
    return rows


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rollouts", type=int, default=2, help="PPO iterations per round")
    parser.add_argument("--n-envs", type=int, default=4, help="SB3's envs")
    parser.add_argument(
        "--envs-per-actor", type=int, default=2, help="per Ray env actor or RLlib env runner"
    )
    args = parser.parse_args()
    torch.set_num_threads(RunConfig().torch_threads)  # as training does: one thread

    startup: dict[str, float] = {}
    _, startup["ray_init_s"] = timed(lambda: connect(RaySection(), RAY_CPUS))
    try:
        sb3: dict[str, BaseAlgorithm] = {}
        for vec in VECS:
            sb3[vec], startup[f"sb3_{vec}_build_s"] = timed(
                lambda vec=vec: sb3_model(vec, args.n_envs, args.envs_per_actor)
            )
        algos: dict[int, Algorithm] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for runners in RUNNERS:
                algos[runners], startup[f"rllib_{runners}_runners_build_s"] = timed(
                    lambda runners=runners: rllib_algo(runners, args.envs_per_actor, Path(tmp))
                )
            micro = {"env_step_us": env_step_us(), **ray_calls_us()}
            micro["policy_4_us"] = policy_us(sb3["dummy"], 4)
            micro["policy_64_us"] = policy_us(sb3["dummy"], 64)
            for model in sb3.values():  # warm-up: first rollout and update
                sb3_round(model, 1)
            for algo in algos.values():
                rllib_round(algo, 1)
            sb3_rates: dict[str, list[tuple[float, float]]] = {vec: [] for vec in VECS}
            rllib_rates: dict[int, list[tuple[float, float]]] = {r: [] for r in RUNNERS}
            for _ in range(args.rounds):
                for vec in VECS:
                    sb3_rates[vec].append(sb3_round(sb3[vec], args.rollouts))
                for runners in RUNNERS:
                    rllib_rates[runners].append(rllib_round(algos[runners], args.rollouts))
            for algo in algos.values():
                algo.stop()
        for model in sb3.values():
            model.get_env().close()
    finally:
        ray.shutdown()

    result: dict[str, Any] = {"startup": startup, "micro": micro}
    for vec in VECS:
        result[f"sb3_{vec}_rollout_steps_per_s"] = median([r for r, _ in sb3_rates[vec]])
        result[f"sb3_{vec}_train_steps_per_s"] = median([t for _, t in sb3_rates[vec]])
    for runners in RUNNERS:
        result[f"rllib_{runners}_runners_sample_steps_per_s"] = median(
            [r for r, _ in rllib_rates[runners]]
        )
        result[f"rllib_{runners}_runners_train_steps_per_s"] = median(
            [t for _, t in rllib_rates[runners]]
        )
    # The driver's share of one SB3 vector step: dummy's time per vector step minus the envs.
    n_envs = sb3["dummy"].n_envs
    vector_step_us = 1e6 * n_envs / result["sb3_dummy_rollout_steps_per_s"]
    micro["sb3_driver_per_vector_step_us"] = vector_step_us - n_envs * micro["env_step_us"]
    # PPO's update per sample: end-to-end time per step minus rollout time per step (the same
    # update on every vector env; the median of the three).
    micro["update_us_per_sample"] = median(
        [
            1e6
            * (
                1 / result[f"sb3_{vec}_train_steps_per_s"]
                - 1 / result[f"sb3_{vec}_rollout_steps_per_s"]
            )
            for vec in VECS
        ]
    )
    result["config"] = {"n_envs": args.n_envs, "envs_per_actor": args.envs_per_actor}
    result["scaling_estimate"] = scaling_estimate(micro, 2, 4, (1, 2, 4, 8, 16))
    result["ratio_ray_vs_subproc_rollout"] = (
        result["sb3_ray_rollout_steps_per_s"] / result["sb3_subproc_rollout_steps_per_s"]
    )
    result["ratio_ray_vs_subproc_train"] = (
        result["sb3_ray_train_steps_per_s"] / result["sb3_subproc_train_steps_per_s"]
    )

    print(f"{'contender':34s} {'rollout steps/s':>16s} {'train steps/s':>14s}")
    for vec in VECS:
        print(
            f"{'sb3 ppo, vec ' + vec:34s} {result[f'sb3_{vec}_rollout_steps_per_s']:16.0f} "
            f"{result[f'sb3_{vec}_train_steps_per_s']:14.0f}"
        )
    for runners in RUNNERS:
        print(
            f"{f'rllib ppo, {runners} env runners':34s} "
            f"{result[f'rllib_{runners}_runners_sample_steps_per_s']:16.0f} "
            f"{result[f'rllib_{runners}_runners_train_steps_per_s']:14.0f}"
        )
    print("start-up (s): " + ", ".join(f"{k} {v:.1f}" for k, v in startup.items()))
    print("per-step costs (µs): " + ", ".join(f"{k} {v:.0f}" for k, v in micro.items()))
    print("estimate, sb3 ppo through the ray vec env, nodes of 2 cores, 4 envs per actor:")
    for row in result["scaling_estimate"]:
        print(
            f"  {row['nodes']:3d} nodes, {row['actors']:3d} actors: rollouts "
            f"{row['rollout_steps_per_s']:7.0f} steps/s, end to end {row['train_steps_per_s']:7.0f}"
        )
    print(
        f"ray / subproc: rollouts {result['ratio_ray_vs_subproc_rollout']:.2f}, "
        f"end to end {result['ratio_ray_vs_subproc_train']:.2f}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
