"""Cost of the DeepWe networks against the MLP and transformer baselines, side by side.

Measured in one run on one thread (torch.set_num_threads(1)), repetitions interleaved across
the contenders (each after an untimed warm-up call) and medians taken, since the machine is
noisy:

* one training update (forward + backward, no optimizer step) at batch 256 of a batch mixing
  5 robots (2, 3, 5, 6 and 7 joints, padded to 8): SAC's set (actor + one Q critic) and
  PPO's actor-critic (separate value network);
* batch-1 action latency without gradients: DeepWe through its weight cache, DeepWe exported
  for the robot, the MLP (and the transformer for reference);
* parameter counts;
* for reference, the DeepWe hypernetwork pipeline alone (what the MLP has no counterpart for).

    python benchmarks/network_cost.py [--reps 15]

Prints a table; the last line is a JSON object with the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from deepwe_rl.nn import (
    NetworkConfig,
    build_actor,
    build_actor_critic,
    build_q_critic,
    export_policy,
)
from deepwe_rl.nn.grouping import group_rows, morphology_rows
from deepwe_rl.nn.observation import Obs
from deepwe_rl.nn.synthetic import observation_batch, random_action, random_robot

MAX_JOINTS = 8
BATCH = 256
JOINT_COUNTS = (2, 3, 5, 6, 7)
CONFIGS = {
    "deepwe": NetworkConfig(kind="deepwe", hidden=256),
    "deepwe-attn": NetworkConfig(kind="deepwe", trunk="attention", hidden=256),
    "mlp": NetworkConfig(kind="mlp", hidden=256),
    "transformer": NetworkConfig(kind="transformer", attn_dim=128, attn_layers=3),
}


def parameter_count(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def sac_update(cfg: NetworkConfig, obs: Obs, action: torch.Tensor) -> Callable[[], None]:
    """Forward and backward of an actor and one Q critic on the batch."""
    actor, critic = build_actor(cfg, MAX_JOINTS), build_q_critic(cfg, MAX_JOINTS)
    params = [*actor.parameters(), *critic.parameters()]
    target = torch.randn(action.shape[0])

    def update() -> None:
        for p in params:
            p.grad = None
        out = actor(obs)
        actor_loss = (out.mean.pow(2) + out.log_std).mean()
        critic_loss = (critic(obs, action) - target).pow(2).mean()
        (actor_loss + critic_loss).backward()

    return update


def ppo_update(cfg: NetworkConfig, obs: Obs, action: torch.Tensor) -> Callable[[], None]:
    """Forward and backward of the actor-critic (separate value network) on the batch."""
    ac = build_actor_critic(cfg, MAX_JOINTS)
    params = list(ac.parameters())
    target = torch.randn(action.shape[0])

    def update() -> None:
        for p in params:
            p.grad = None
        out = ac(obs)
        log_prob = -(((action - out.mean) / out.log_std.exp()).pow(2) / 2 + out.log_std)
        loss = -(log_prob * out.mask).sum(1).mean() + (out.value - target).pow(2).mean()
        loss.backward()

    return update


def generation_update(cfg: NetworkConfig, obs: Obs) -> Callable[[], None]:
    """Forward and backward of only the DeepWe hypernetwork pipeline (descriptor encoder,
    robot embedding, weight generator, FiLM) of an actor and a Q critic, for the batch's
    distinct robots: the part of the update that the MLP has no counterpart for."""
    nets = [build_actor(cfg, MAX_JOINTS).net, build_q_critic(cfg, MAX_JOINTS).net]
    params = [p for net in nets for p in net.parameters()]
    rows = group_rows(morphology_rows(obs)).rows

    def update() -> None:
        for p in params:
            p.grad = None
        total = sum(t.sum() for net in nets for t in net.generate(rows) if t is not None)
        total.backward()

    return update


def interleaved(contenders: dict[str, Callable[[], None]], reps: int, budget_s: float) -> dict:
    """Median seconds per call of each contender, repetitions interleaved. Each repetition
    of a contender is one untimed warm-up call (so a contender never pays for the caches the
    previous one evicted) and then as many timed calls as fit in about ``budget_s``."""
    calls = {}
    for name, run in contenders.items():
        run()
        start = time.perf_counter()
        run()
        calls[name] = max(1, round(budget_s / (time.perf_counter() - start)))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(reps):
        for name, run in contenders.items():
            run()
            start = time.perf_counter()
            for _ in range(calls[name]):
                run()
            times[name].append((time.perf_counter() - start) / calls[name])
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    robots = [random_robot(n, rng, has_gripper=n % 2 == 1) for n in JOINT_COUNTS]
    batch = [robots[i] for i in rng.integers(0, len(robots), BATCH)]
    obs = observation_batch(batch, MAX_JOINTS, rng)
    action = random_action(obs, rng)

    torch.manual_seed(0)
    updates = {}
    for name, cfg in CONFIGS.items():
        updates[f"sac/{name}"] = sac_update(cfg, obs, action)
        updates[f"ppo/{name}"] = ppo_update(cfg, obs, action)
    updates["sac/deepwe hypernetwork only"] = generation_update(CONFIGS["deepwe"], obs)
    update_s = interleaved(updates, args.reps, budget_s=0.03)

    one = observation_batch([robots[-1]], MAX_JOINTS, rng)
    actors = {
        name: build_actor(cfg, MAX_JOINTS) for name, cfg in CONFIGS.items() if name != "deepwe-attn"
    }
    exported = export_policy(actors["deepwe"], one)
    with torch.no_grad():
        infer_s = interleaved(
            {
                "deepwe-cached": lambda: actors["deepwe"](one),
                "deepwe-exported": lambda: exported(one),
                "mlp": lambda: actors["mlp"](one),
                "transformer": lambda: actors["transformer"](one),
            },
            args.reps,
            budget_s=0.03,
        )

    params = {
        name: {
            "actor": parameter_count(build_actor(cfg, MAX_JOINTS)),
            "q_critic": parameter_count(build_q_critic(cfg, MAX_JOINTS)),
            "actor_critic": parameter_count(build_actor_critic(cfg, MAX_JOINTS)),
        }
        for name, cfg in CONFIGS.items()
    }
    params["deepwe-exported"] = {
        "actor": parameter_count(exported) + sum(b.numel() for b in exported.buffers())
    }

    mlp_sac, mlp_ppo = update_s["sac/mlp"], update_s["ppo/mlp"]
    print(
        f"batch {BATCH}, robots with {JOINT_COUNTS} joints padded to {MAX_JOINTS}, "
        f"{args.reps} interleaved reps, medians, 1 thread"
    )
    print(
        f"{'network':<14}{'SAC update ms':>15}{'x mlp':>8}{'PPO update ms':>15}{'x mlp':>8}"
        f"{'actor params':>14}{'Q params':>10}{'AC params':>11}"
    )
    for name in CONFIGS:
        sac, ppo = update_s[f"sac/{name}"], update_s[f"ppo/{name}"]
        p = params[name]
        print(
            f"{name:<14}{sac * 1e3:>15.2f}{sac / mlp_sac:>8.2f}{ppo * 1e3:>15.2f}"
            f"{ppo / mlp_ppo:>8.2f}{p['actor']:>14,}{p['q_critic']:>10,}"
            f"{p['actor_critic']:>11,}"
        )
    hyper = update_s["sac/deepwe hypernetwork only"]
    print(
        f"of which the DeepWe hypernetwork pipeline alone (SAC set, {len(JOINT_COUNTS)} robots):"
        f" {hyper * 1e3:.2f} ms = {hyper / mlp_sac:.2f} x the whole MLP update"
    )
    print(f"\n{'batch-1 action (no grad)':<26}{'us':>9}{'x mlp':>8}")
    for name, seconds in infer_s.items():
        print(f"{name:<26}{seconds * 1e6:>9.1f}{seconds / infer_s['mlp']:>8.2f}")

    cached = infer_s["deepwe-cached"] / infer_s["mlp"]
    exported_ratio = infer_s["deepwe-exported"] / infer_s["mlp"]
    print(
        json.dumps(
            {
                "update_ratio_deepwe_mlp": round(update_s["sac/deepwe"] / mlp_sac, 3),
                "update_ratio_transformer_mlp": round(update_s["sac/transformer"] / mlp_sac, 3),
                "update_ratio_deepwe_mlp_ppo": round(update_s["ppo/deepwe"] / mlp_ppo, 3),
                "update_ratio_transformer_mlp_ppo": round(update_s["ppo/transformer"] / mlp_ppo, 3),
                "infer_ratio_deepwe_mlp": round(min(cached, exported_ratio), 3),
                "infer_ratio_deepwe_cached_mlp": round(cached, 3),
                "infer_ratio_deepwe_exported_mlp": round(exported_ratio, 3),
                "update_ms": {k: round(v * 1e3, 3) for k, v in update_s.items()},
                "infer_us": {k: round(v * 1e6, 2) for k, v in infer_s.items()},
                "params": params,
                "batch": BATCH,
                "joint_counts": list(JOINT_COUNTS),
                "max_joints": MAX_JOINTS,
                "reps": args.reps,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
