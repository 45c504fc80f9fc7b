"""The standard cross-morphology comparison: DeepWe against the padded MLP and the
MetaMorph-style transformer, with per-robot specialists from scratch as the reference.

Every contender trains joint-control reach on the ``train`` split for the same number of env
steps (``configs/transfer.yaml``), for each seed, through the real ``deepwe-rl`` command; the
runs of one seed go one after another, interleaving the network kinds, and nothing else should
run meanwhile (wall-clock times are compared). Each trained run is then evaluated on its own robots
and zero-shot on ``interpolate``, ``extrapolate`` and ``real-heldout`` with ``deepwe-rl
transfer``. DeepWe runs
are also fine-tuned on one robot of each held-out split, next to the same budget from scratch
(the specialists).

    python benchmarks/transfer.py [--steps 60000] [--seeds 3] [--episodes 20]
        [--finetune-steps 20000] [--out benchmarks/out/transfer] [--write-results]

Prints the tables; with ``--write-results`` also puts them into docs/results.md between the
transfer markers. The last line is a JSON object with the figures and targets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from deepwe_rl.envs.robots.catalog import HELD_OUT

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "deepwe_rl.cli"]
KINDS = ("deepwe", "mlp", "transformer")
FINETUNE_ROBOTS = ("proc:5:100", "proc:4:100", "xarm6")
TRANSFORMER_SIZE = ("network.attn_dim=64", "network.attn_layers=2")
"""The transformer runs at d=64 with 2 layers (network_cost.py measures d=128, 3 layers), so
that three seeds of it fit this 2-core machine."""
BEGIN, END = "<!-- transfer:begin -->", "<!-- transfer:end -->"


def cli(*args: str) -> str:
    """Run the deepwe-rl command; stop the benchmark with its error if it fails."""
    result = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"deepwe-rl {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def train(kind: str, seed: int, steps: int, runs: Path) -> tuple[Path, float]:
    """One training run on the train split; its folder and wall-clock seconds."""
    name = f"{kind}-s{seed}"
    extra = TRANSFORMER_SIZE if kind == "transformer" else ()
    started = time.perf_counter()
    cli(
        "train", "configs/transfer.yaml",
        f"network.kind={kind}", f"seed={seed}", f"total_timesteps={steps}",
        f"runs_dir={runs}", f"name={name}", "eval.freq=0", *extra,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    (run,) = [p for p in runs.iterdir() if p.name.startswith(f"{name}-")]
    return run, seconds


def transfer(run: Path, episodes: int, finetune_steps: int) -> dict:
    args = ["transfer", str(run), "--episodes", str(episodes)]
    for split in ("train", *HELD_OUT):
        args += ["--split", split]
    if finetune_steps:
        args += ["--finetune-steps", str(finetune_steps), "--finetune-episodes", "10"]
        args += ["--finetune-robots", ",".join(FINETUNE_ROBOTS)]
    cli(*args)
    return json.loads((run / "transfer" / "transfer.json").read_text())


def mean_sd(values: list[float]) -> str:
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}"


def report(results: dict, args: argparse.Namespace) -> tuple[str, dict]:
    """Markdown tables and the summary figures."""
    lines = [
        f"Command: `python benchmarks/transfer.py --steps {args.steps} --seeds {args.seeds} "
        f"--episodes {args.episodes} --finetune-steps {args.finetune_steps}`",
        "",
        f"Joint-control reach, trained on `train` (14 robots) for {args.steps} env steps each, "
        f"SB3 PPO as in `configs/transfer.yaml`, {args.seeds} seeds; zero-shot success over "
        f"{args.episodes} episodes per held-out robot (mean ± sd over seeds of the split's "
        "mean). The transformer is d=64, 2 layers.",
        "",
        "| network | train wall-clock (s) | x MLP | train robots | " + " | ".join(HELD_OUT) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(HELD_OUT),
    ]
    summary: dict = {"zero_shot": {}, "seconds": {}}
    mlp_seconds = np.mean(results["mlp"]["seconds"]) if "mlp" in results else np.nan
    for kind, r in results.items():
        seconds = np.mean(r["seconds"])
        cells = [f"{seconds:.0f}", f"{seconds / mlp_seconds:.2f}"]
        summary["seconds"][kind] = float(seconds)
        summary["zero_shot"][kind] = {}
        for cat in ("train", *HELD_OUT):
            per_seed = [t["category_means"].get(cat, np.nan) for t in r["transfer"]]
            summary["zero_shot"][kind][cat] = float(np.mean(per_seed))
            cells.append(mean_sd(per_seed))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    if "deepwe" in results and args.finetune_steps:
        lines += [
            "",
            f"Fine-tuning DeepWe for {args.finetune_steps} env steps on one robot per held-out "
            f"split against the same budget from scratch (DeepWe specialists), {args.seeds} "
            "seeds, 10 evaluation episodes per point; steps to 80% are per seed ('-' = not "
            "reached within the budget).",
            "",
            "| robot | zero-shot | fine-tuned final | scratch final | fine-tuned steps to 80% "
            "| scratch steps to 80% |",
            "|---|---:|---:|---:|---|---|",
        ]
        summary["finetune"] = {}
        for robot in FINETUNE_ROBOTS:
            zero = [
                next(z["success_rate"] for z in t["zero_shot"] if z["robot"] == robot)
                for t in results["deepwe"]["transfer"]
            ]
            per = [t["finetune"]["summary"][robot] for t in results["deepwe"]["transfer"]]
            row = {c: {"final": [p[c]["final_success"] for p in per],
                       "steps": [s for p in per for s in p[c]["steps_to_target"]]}
                   for c in ("finetuned", "scratch")}  # fmt: skip
            summary["finetune"][robot] = row
            steps = {c: ", ".join("-" if s is None else str(s) for s in row[c]["steps"])
                     for c in row}  # fmt: skip
            lines.append(
                f"| {robot} | {mean_sd(zero)} | {mean_sd(row['finetuned']['final'])} | "
                f"{mean_sd(row['scratch']['final'])} | {steps['finetuned']} | {steps['scratch']} |"
            )
    return "\n".join(lines) + "\n", summary


def write_results(table: str) -> None:
    path = ROOT / "docs" / "results.md"
    text = path.read_text()
    if BEGIN not in text:
        sys.exit(f"{path} has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--finetune-steps", type=int, default=20_000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "transfer")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    runs = args.out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    results: dict = {k: {"seconds": [], "transfer": []} for k in args.kinds.split(",")}
    for seed in range(args.seeds):
        for kind in results:
            run, seconds = train(kind, seed, args.steps, runs)
            finetune = args.finetune_steps if kind == "deepwe" else 0
            results[kind]["seconds"].append(seconds)
            results[kind]["transfer"].append(transfer(run, args.episodes, finetune))
            print(f"seed {seed} {kind}: trained in {seconds:.0f}s", flush=True)
            (args.out / "raw.json").write_text(json.dumps(results, indent=1))
    table, summary = report(results, args)
    print(table)
    if args.write_results:
        write_results(table)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
