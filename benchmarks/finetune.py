"""Fine-tuning a trained policy onto new arms against learning each arm from scratch, in env
steps to a target success, for tasks learned from the scripted expert (Push, PickAndPlace).

For each robot, two runs of the trained run's config through the real ``deepwe-rl train``, on
that robot alone, one after the other:
- fine-tuned: the trained weights (``init_from``), then DAgger alone: the policy drives every
  round and the expert labels what it visits (``demonstrations.episodes=0``); with
  ``--rehearsal-steps N``, each fit also covers N steps of the trained run's own
  demonstrations (``demonstrations.rehearsal_steps``), which are not env steps on the new arm;
- scratch: random weights, one round the expert drives, then the same DAgger rounds.

After each round the policy is fitted on everything so far, and the next round's success is
that policy's own, driving. A policy's steps to the target are the env steps of the data it was
fitted on when its round first reaches the target (0 for a trained policy that already does).

    python benchmarks/finetune.py RUN [--robots xarm6,proc:7:100,proc:4:101] [--rounds 16]
        [--episodes 10] [--rehearsal-steps 0] [--target 0.8] [--out benchmarks/out/finetune]

Prints a table and the ratio of fine-tuned to scratch steps per robot; the last line is a JSON
object with the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from learning_curve import scalars  # this folder's TensorBoard reader

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "deepwe_rl.cli"]
N_ENVS = 4


def train(
    run: Path, robot: str, finetuned: bool, rounds: int, episodes: int, out: Path, rehearsal: int
) -> Path:
    """One fine-tuned (rehearsing ``rehearsal`` steps of ``run``'s demonstrations) or scratch
    run on ``robot`` with ``rounds`` DAgger rounds of ``episodes`` episodes, in ``out``; its run
    directory."""
    kind = "finetuned" if finetuned else "scratch"
    name = f"{kind}-{robot.replace(':', '_')}"
    start = (
        [f"init_from={run}", "demonstrations.episodes=0",
         f"demonstrations.rehearsal_steps={rehearsal}"]
        if finetuned
        else [f"demonstrations.episodes={episodes}"]
    )  # fmt: skip
    command = [
        *CLI, "train", str(run / "config.yaml"),
        f"name={name}", f"runs_dir={out}", f"env.robots=[{robot}]", f"env.n_envs={N_ENVS}",
        f"demonstrations.dagger_rounds={rounds}",
        f"demonstrations.dagger_episodes={episodes}",
        # RL adds one rollout of PPO after the rounds; the figures here are the rounds'.
        f"total_timesteps={N_ENVS * 256}", "algo.n_steps=256", "eval.freq=0",
        "checkpoint.freq=0", *start,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    # The newest: a run an earlier call left unfinished keeps its folder beside this one.
    return max(p for p in out.iterdir() if p.name.startswith(f"{name}-"))


def rounds_of(run: Path) -> list[tuple[float, float]]:
    """Per demonstrations round, the env steps collected so far and the round's success."""
    found = scalars(run / "tb")
    steps = [v for _, v in found["demonstrations/env_steps"]]
    success = [v for _, v in found["demonstrations/success"]]
    return list(zip(steps, success, strict=True))


def steps_to(target: float, per_round: list[tuple[float, float]], expert_first: bool) -> int | None:
    """Env steps a policy was fitted on when its round first reached ``target``."""
    for k, (_, success) in enumerate(per_round):
        if expert_first and k == 0:
            continue  # the expert drove that round
        if success >= target:
            return int(per_round[k - 1][0]) if k > 0 else 0
    return None


def compare(
    run: Path, robot: str, rounds: int, episodes: int, target: float, out: Path, rehearsal: int = 0
) -> dict:
    """Fine-tuned then scratch on ``robot`` (runs in ``out``): per condition the success and env
    steps per round, the steps to ``target`` and the wall-clock seconds; and their ratio."""
    out.mkdir(parents=True, exist_ok=True)
    row: dict = {}
    for finetuned in (True, False):
        started = time.perf_counter()
        per_round = rounds_of(train(run, robot, finetuned, rounds, episodes, out, rehearsal))
        row["finetuned" if finetuned else "scratch"] = {
            "success": [s for _, s in per_round],
            "env_steps": [int(n) for n, _ in per_round],
            "steps_to_target": steps_to(target, per_round, expert_first=not finetuned),
            "seconds": round(time.perf_counter() - started, 1),
        }
    ft, sc = row["finetuned"]["steps_to_target"], row["scratch"]["steps_to_target"]
    row["ratio"] = ft / sc if ft is not None and sc else None
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a trained run of Push or PickAndPlace")
    parser.add_argument("--robots", default="xarm6,proc:7:100,proc:4:101")
    parser.add_argument("--rounds", type=int, default=16, help="DAgger rounds per run")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per round")
    parser.add_argument("--rehearsal-steps", type=int, default=0,
                        help="steps of the run's demonstrations each fit rehearses")  # fmt: skip
    parser.add_argument("--target", type=float, default=0.8)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "finetune")
    args = parser.parse_args()
    args.run, args.out = args.run.resolve(), args.out.resolve()
    print(
        f"| robot | fine-tuned: success per round | scratch: success per round (expert first) "
        f"| fine-tuned steps to {args.target:.0%} | scratch steps to {args.target:.0%} | ratio "
        "| wall-clock fine-tuned / scratch (s) |\n|---|---|---|---:|---:|---:|---:|",
        flush=True,
    )
    summary: dict = {}
    for robot in args.robots.split(","):
        row = compare(args.run, robot, args.rounds, args.episodes, args.target, args.out,
                      args.rehearsal_steps)  # fmt: skip
        ft, sc = row["finetuned"]["steps_to_target"], row["scratch"]["steps_to_target"]
        summary[robot] = row

        def cell(v: int | None) -> str:
            return "not reached" if v is None else f"{v:,}"

        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"| {robot} | {' '.join(f'{s:.1f}' for s in row['finetuned']['success'])} "
            f"| {' '.join(f'{s:.1f}' for s in row['scratch']['success'])} | {cell(ft)} "
            f"| {cell(sc)} | {ratio} | {row['finetuned']['seconds']:.0f} / "
            f"{row['scratch']['seconds']:.0f} |",
            flush=True,
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
