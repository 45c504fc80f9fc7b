"""The standard cross-morphology comparison: DeepWe against the padded MLP and the
MetaMorph-style transformer, on Reach (the quick option) or Push.

Every contender trains on the task's training split for the same number of env steps, for each
seed, through the real ``deepwe-rl`` command; the runs of one seed go one after another,
interleaving the network kinds, and nothing else should run meanwhile (wall-clock times are
compared). Each trained run is then evaluated on its own robots and zero-shot on
``interpolate``, ``extrapolate`` and ``real-heldout`` (the arms that can do the task) with
``deepwe-rl transfer``, with a table per real held-out arm. DeepWe runs are also fine-tuned on
one robot of each held-out split, next to the same robot learned from scratch.

- ``--task reach``: joint-control reach on ``train`` (``configs/transfer.yaml``), ``--steps``
  PPO steps; fine-tuning is ``deepwe-rl transfer --finetune-steps`` (PPO, both conditions the
  same budget).
- ``--task push``: Push on ``push-train`` (``configs/push.yaml``): behaviour cloning from the
  scripted expert with DAgger, then ``--steps`` PPO steps; the table reports both parts' env
  steps. A race table gives where each run first reached the MLP's final success of its seed
  (each DAgger round's success, read back from TensorBoard with its time, and the end), in env
  steps and seconds. Fine-tuning is ``benchmarks/finetune.py``'s DAgger comparison
  (``--finetune-rounds`` rounds of ``--finetune-episodes`` episodes), in env steps to 80%.

    python benchmarks/transfer.py [--task reach] [--steps 60000] [--seeds 3] [--episodes 20]
        [--finetune-steps 20000] [--kinds deepwe,mlp,transformer] [--set KEY=VALUE ...]
        [--out benchmarks/out/transfer] [--raw <out>/raw.json] [--write-results]
    python benchmarks/transfer.py --task push [--steps 25000] [--seeds 3] [--episodes 20]
        [--finetune-rounds 16] [--finetune-episodes 20] [--set KEY=VALUE ...] [--raw PATH]
        [--write-results]

``--set`` passes a config override to every training run (repeatable). Prints the tables; with
``--write-results`` also puts them into docs/results.md between the task's markers. The last
line is a JSON object with the figures.

The Push benchmark takes longer than one sitting (about 4.5 h for 3 seeds of 3 networks with
fine-tuning): it can be run in parts. Every finished run's results are kept in ``--raw``
(``<out>/raw.json`` unless given), and the same command with the same ``--raw`` goes on where the
last call stopped; ``--seeds`` and ``--kinds`` may grow between calls (e.g. ``--seeds 1`` first),
the other options may not. ``<out>`` is not in git and a fresh checkout does not have it: a
benchmark that spans sessions keeps its ``--raw`` in git, under ``benchmarks/records/``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from finetune import N_ENVS, compare  # this folder's DAgger fine-tuning against scratch
from learning_curve import dagger_rounds, scalars  # this folder's TensorBoard reader
from transfer_report import (
    push_finetune_table,
    race_table,
    reach_finetune_table,
    real_heldout_table,
    write_between,
    zero_shot_table,
)

from deepwe_rl.agents.run_dir import atomic_save
from deepwe_rl.envs.robots.catalog import HELD_OUT, SPLITS

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "deepwe_rl.cli"]
KINDS = ("deepwe", "mlp", "transformer")
TRANSFORMER_SIZE = ("network.attn_dim=64", "network.attn_layers=2")
"""The transformer runs at d=64 with 2 layers (network_cost.py measures d=128, 3 layers), so
that three seeds of it fit this 2-core machine."""
TARGET = 0.8
RACE = (
    "Success on the training arms on the way, against the MLP's final success in the same "
    "seed: where each run first reached it, counting each DAgger round (the policy drove its "
    "training arms) and the end (zero-shot on `train`); env steps include the "
    "demonstrations', seconds count from the start of the run's process ('-' = not reached)."
)


@dataclass(frozen=True)
class Task:
    """What the benchmark trains for one task, and where its tables go in docs/results.md."""

    config: str
    split: str
    steps: int
    finetune_robots: tuple[str, ...]
    """One robot per held-out split."""
    markers: tuple[str, str]


TASKS = {
    "reach": Task(
        "configs/transfer.yaml", "train", 60_000, ("proc:5:100", "proc:4:100", "xarm6"),
        ("<!-- transfer:begin -->", "<!-- transfer:end -->"),
    ),
    "push": Task(
        "configs/push.yaml", "push-train", 25_000, ("proc:7:100", "proc:4:101", "xarm6"),
        ("<!-- transfer-push:begin -->", "<!-- transfer-push:end -->"),
    ),
}  # fmt: skip


def cli(*args: str) -> str:
    """Run the deepwe-rl command; stop the benchmark with its error if it fails."""
    result = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"deepwe-rl {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def train(task: Task, kind: str, seed: int, args: argparse.Namespace) -> tuple[Path, float]:
    """One training run on the task's split; its folder and wall-clock seconds."""
    name = f"{kind}-s{seed}"
    runs = args.out / "runs"
    extra = TRANSFORMER_SIZE if kind == "transformer" else ()
    started = time.perf_counter()
    cli(
        "train", task.config,
        f"network.kind={kind}", f"seed={seed}", f"total_timesteps={args.steps}",
        f"runs_dir={runs}", f"name={name}", "eval.freq=0", *extra, *args.set,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    # The newest: a run an earlier call left unfinished keeps its folder beside this one.
    return max(p for p in runs.iterdir() if p.name.startswith(f"{name}-")), seconds


def transfer(run: Path, task: Task, episodes: int, finetune_steps: int) -> dict:
    """``deepwe-rl transfer`` on the run's split and every held-out split; its JSON."""
    args = ["transfer", str(run), "--episodes", str(episodes)]
    for split in (task.split, *HELD_OUT):
        args += ["--split", split]
    if finetune_steps:
        args += ["--finetune-steps", str(finetune_steps), "--finetune-episodes", "10"]
        args += ["--finetune-robots", ",".join(task.finetune_robots)]
    cli(*args)
    return json.loads((run / "transfer" / "transfer.json").read_text())


def env_steps(run: Path) -> tuple[int, int]:
    """The run's env steps of demonstrations (all rounds) and of PPO, from its TensorBoard."""
    found = scalars(run / "tb")
    demonstrations = found.get("demonstrations/env_steps", [(0, 0.0)])[-1][1]
    return int(demonstrations), found["time/fps"][-1][0]


SETTINGS = ("task", "steps", "episodes", "finetune_steps", "finetune_rounds", "finetune_episodes",
            "set")  # fmt: skip
"""The options every run kept in one ``--out`` must share (``--seeds`` and ``--kinds`` may grow)."""


def settings(args: argparse.Namespace) -> dict:
    """The call's values of ``SETTINGS``."""
    return {k: getattr(args, k) for k in SETTINGS}


def kept(args: argparse.Namespace) -> dict:
    """The raw results ``--raw`` holds from an earlier call with the same settings, per kind;
    empty for a new one. Stops with one line if its settings differ."""
    if not args.raw.exists():
        return {}
    found = json.loads(args.raw.read_text())
    if found.get("settings") != settings(args):
        sys.exit(f"{args.raw} holds runs made with other settings ({found.get('settings')}); "
                 "use another --raw or remove it")  # fmt: skip
    return found["results"]


def keep(args: argparse.Namespace, results: dict) -> None:
    """``results`` (every kind's) and the settings into ``--raw``, atomically: it holds hours of
    runs."""
    text = json.dumps({"settings": settings(args), "results": results}, indent=1)
    args.raw.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(args.raw, lambda tmp: tmp.write_text(text))


def measure(task_name: str, args: argparse.Namespace) -> dict:
    """Train, evaluate and (DeepWe) fine-tune every kind and seed; the raw results per kind.

    They are kept in ``--raw`` after each run, and a later call with the same settings and
    ``--raw`` goes on from there: runs of each kind are done in seed order, so a kind with
    ``n`` finished runs has seeds ``0..n-1``. A run cut off midway is done again."""
    task = TASKS[task_name]
    everything = kept(args)
    results: dict = {
        k: everything.setdefault(k, {"seconds": [], "transfer": []}) for k in args.kinds
    }
    for seed in range(args.seeds):
        for kind, r in results.items():
            if len(r["seconds"]) > seed:
                print(f"seed {seed} {kind}: kept from an earlier call", flush=True)
                continue
            run, seconds = train(task, kind, seed, args)
            deepwe = kind == "deepwe"
            reach_finetune = args.finetune_steps if task_name == "reach" and deepwe else 0
            r["seconds"].append(seconds)
            r["transfer"].append(transfer(run, task, args.episodes, reach_finetune))
            if task_name == "push":
                demonstrations, ppo = env_steps(run)
                r.setdefault("demo_steps", []).append(demonstrations)
                r.setdefault("ppo_steps", []).append(ppo)
                r.setdefault("rounds", []).append(dagger_rounds(run, seconds))
                if deepwe and args.finetune_rounds:
                    out = args.out / "finetune" / run.name
                    r.setdefault("finetune", []).append({
                        robot: compare(run, robot, args.finetune_rounds, args.finetune_episodes,
                                       TARGET, out)
                        for robot in task.finetune_robots
                    })  # fmt: skip
            print(f"seed {seed} {kind}: trained in {seconds:.0f}s", flush=True)
            keep(args, everything)
    return results


def command(args: argparse.Namespace) -> str:
    """The command line that reproduces the tables."""
    parts = ["python benchmarks/transfer.py", f"--task {args.task}", f"--steps {args.steps}",
             f"--seeds {args.seeds}", f"--episodes {args.episodes}"]  # fmt: skip
    if args.task == "reach":
        parts.append(f"--finetune-steps {args.finetune_steps}")
    else:
        parts += [f"--finetune-rounds {args.finetune_rounds}",
                  f"--finetune-episodes {args.finetune_episodes}"]  # fmt: skip
    if args.kinds != list(KINDS):
        parts.append(f"--kinds {','.join(args.kinds)}")
    parts += [f"--set {s}" for s in args.set]
    return " ".join(parts)


def report(results: dict, args: argparse.Namespace) -> tuple[str, dict]:
    """Markdown tables and the summary figures."""
    task = TASKS[args.task]
    seeds = f"{args.seeds} seed{'s' if args.seeds > 1 else ''}"
    categories = ("train", *HELD_OUT)
    zero_lines, summary = zero_shot_table(results, categories)
    real_lines, summary["real_heldout"] = real_heldout_table(results, SPLITS["real-heldout"])
    if args.task == "reach":
        what = (
            f"Joint-control reach, trained on `train` for {args.steps} env steps each, SB3 PPO "
            "as in `configs/transfer.yaml`"
        )
    else:
        what = (
            "Push, trained on `push-train` as in `configs/push.yaml`: behaviour cloning from the "
            f"scripted expert with DAgger, then {args.steps} PPO env steps (`--steps`); the env "
            "steps column gives both parts, read back from each run's TensorBoard"
        )
    lines = [
        f"Command: `{command(args)}`",
        "",
        f"{what}, {seeds}; zero-shot success over {args.episodes} episodes per "
        "robot (mean ± sd over seeds of the split's mean), on the arms of each split that can "
        "do the task. The transformer is d=64, 2 layers.",
        "",
        *zero_lines,
        "",
        "Zero-shot success per real held-out arm, and their mean (mean ± sd over seeds):",
        "",
        *real_lines,
    ]
    if "mlp" in results and all("rounds" in r for r in results.values()):
        race_lines, summary["race"] = race_table(results)
        lines += ["", RACE, "", *race_lines]
    deepwe = results.get("deepwe")
    if deepwe and (args.finetune_steps if args.task == "reach" else args.finetune_rounds):
        if args.task == "reach":
            table = reach_finetune_table
            text = (
                f"Fine-tuning DeepWe for {args.finetune_steps} env steps on one robot per "
                "held-out split against the same budget from scratch (DeepWe specialists), "
                f"{seeds}, 10 evaluation episodes per point; steps to 80% are per seed "
                "('-' = not reached within the budget)."
            )
        else:
            table = push_finetune_table
            text = (
                "Fine-tuning DeepWe onto one arm per held-out split by DAgger "
                f"(`benchmarks/finetune.py`: {args.finetune_rounds} rounds of "
                f"{args.finetune_episodes} episodes, {N_ENVS} envs) against scratch (the "
                f"expert's {args.finetune_episodes} episodes, then the same rounds), "
                f"{seeds}; env steps to 80% and the ratio per seed ('-' = not reached)."
            )
        ft_lines, summary["finetune"] = table(deepwe, task.finetune_robots)
        lines += ["", text, "", *ft_lines]
    return "\n".join(lines) + "\n", summary


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: one line and exit 2 for what does not fit the task."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=tuple(TASKS), default="reach")
    parser.add_argument("--steps", type=int, help="PPO env steps (reach 60000, push 25000)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=20, help="zero-shot episodes per robot")
    parser.add_argument("--finetune-steps", type=int, help="reach: PPO steps (20000; 0: none)")
    parser.add_argument("--finetune-rounds", type=int, help="push: DAgger rounds (16; 0: none)")
    parser.add_argument("--finetune-episodes", type=int, help="push: episodes a round (20)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every training run (repeatable)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "transfer")
    parser.add_argument("--raw", type=Path, help="finished runs, kept between calls")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    other = ("--finetune-rounds", "--finetune-episodes")
    if args.task == "push":
        other = ("--finetune-steps",)
    if given := [o for o in other if getattr(args, o[2:].replace("-", "_")) is not None]:
        parser.error(f"{', '.join(given)} is not an option of --task {args.task}")
    if bad := [s for s in args.set if "=" not in s]:
        parser.error(f"--set takes KEY=VALUE, got {bad[0]!r}")
    args.kinds = args.kinds.split(",")
    if unknown := [k for k in args.kinds if k not in KINDS]:
        parser.error(f"--kinds: unknown {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    args.steps = TASKS[args.task].steps if args.steps is None else args.steps
    defaults = {"finetune_steps": 20_000, "finetune_rounds": 16, "finetune_episodes": 20}
    for key, value in defaults.items():
        setattr(args, key, value if getattr(args, key) is None else getattr(args, key))
    args.out = args.out.resolve()
    args.raw = (args.raw or args.out / "raw.json").resolve()
    return args


def main() -> None:
    args = parse()
    (args.out / "runs").mkdir(parents=True, exist_ok=True)
    results = measure(args.task, args)
    table, summary = report(results, args)
    print(table)
    if args.write_results:
        write_between(ROOT / "docs" / "results.md", *TASKS[args.task].markers, table)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
