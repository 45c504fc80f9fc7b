"""The tables of ``benchmarks/transfer.py``: zero-shot success per network and split, per real
held-out arm, and fine-tuning against scratch, as markdown with the figures behind them.

Every function takes the benchmark's raw results: per network kind, lists over seeds of
``seconds`` (training wall-clock), ``transfer`` (each run's ``transfer/transfer.json``) and, for
Push, ``demo_steps`` and ``ppo_steps`` (env steps of the demonstrations and of PPO), ``rounds``
(``learning_curve.dagger_rounds``: env steps, seconds and success at each DAgger round) and
``finetune`` (per robot, ``benchmarks/finetune.py``'s ``compare`` row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

Results = dict[str, dict[str, list]]
"""Per network kind, lists over seeds: see the module docstring."""


def mean_sd(values: list[float]) -> str:
    """``mean ± sd`` over seeds, two decimals."""
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}"


def zero_shot_table(results: Results, categories: tuple[str, ...]) -> tuple[list[str], dict]:
    """One row per network: training wall-clock and its ratio to the MLP's ('-' without an
    MLP), for Push the env steps of demonstrations and PPO, then mean ± sd over seeds of each
    category's mean zero-shot success. Returns the markdown lines and ``{"seconds",
    "env_steps", "zero_shot"}``."""
    push = any("demo_steps" in r for r in results.values())
    steps_head = " env steps (demonstrations + PPO) |" if push else ""
    lines = [
        f"| network | train wall-clock (s) | x MLP |{steps_head} " + " | ".join(categories) + " |",
        "|---|---:|---:|" + "---:|" * (len(categories) + push),
    ]
    summary: dict = {"seconds": {}, "zero_shot": {}}
    mlp_seconds = np.mean(results["mlp"]["seconds"]) if "mlp" in results else None
    for kind, r in results.items():
        seconds = float(np.mean(r["seconds"]))
        summary["seconds"][kind] = seconds
        cells = [f"{seconds:.0f}", "-" if mlp_seconds is None else f"{seconds / mlp_seconds:.2f}"]
        if push:
            demo, ppo = np.mean(r["demo_steps"]), np.mean(r["ppo_steps"])
            summary.setdefault("env_steps", {})[kind] = {
                "demonstrations": float(demo),
                "ppo": float(ppo),
            }
            cells.append(f"{demo:,.0f} + {ppo:,.0f}")
        summary["zero_shot"][kind] = {}
        for cat in categories:
            per_seed = [t["category_means"].get(cat, np.nan) for t in r["transfer"]]
            summary["zero_shot"][kind][cat] = float(np.mean(per_seed))
            cells.append(mean_sd(per_seed))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines, summary


def real_heldout_table(results: Results, split: tuple[str, ...]) -> tuple[list[str], dict]:
    """Zero-shot success per real held-out arm (every arm of ``split``, in its order, that the
    runs were evaluated on: those that can do the task) and their mean, per network, mean ± sd
    over seeds. Returns the markdown lines and, per network, per arm and ``mean``,
    ``{"mean", "sd"}`` over seeds."""
    evaluated = {
        z["robot"] for r in results.values() for t in r["transfer"] for z in t["zero_shot"]
    }
    arms = [arm for arm in split if arm in evaluated]
    lines = [
        "| network | " + " | ".join(arms) + " | mean |",
        "|---|" + "---:|" * (len(arms) + 1),
    ]
    summary: dict = {}
    for kind, r in results.items():
        rates = np.array([zero_shot_of(r["transfer"], arm) for arm in arms]).T  # seeds x arms
        columns = {arm: rates[:, i] for i, arm in enumerate(arms)} | {"mean": rates.mean(axis=1)}
        summary[kind] = {
            name: {"mean": float(np.mean(v)), "sd": float(np.std(v))} for name, v in columns.items()
        }
        lines.append(f"| {kind} | " + " | ".join(mean_sd(v) for v in columns.values()) + " |")
    return lines, summary


def zero_shot_of(transfers: list[dict], robot: str) -> list[float]:
    """``robot``'s zero-shot success in each seed's transfer result."""
    return [
        next(z["success_rate"] for z in t["zero_shot"] if z["robot"] == robot) for t in transfers
    ]


def steps_cell(steps: list[int | None]) -> str:
    """Steps to the target per seed, ``-`` where a seed did not reach it."""
    return ", ".join("-" if s is None else f"{s:,}" for s in steps)


def reach_finetune_table(deepwe: dict, robots: tuple[str, ...]) -> tuple[list[str], dict]:
    """DeepWe fine-tuned by ``deepwe-rl transfer --finetune-steps`` against scratch, per robot:
    zero-shot, final success of each, and steps to 80% per seed."""
    lines = [
        "| robot | zero-shot | fine-tuned final | scratch final | fine-tuned steps to 80% "
        "| scratch steps to 80% |",
        "|---|---:|---:|---:|---|---|",
    ]
    summary: dict = {}
    for robot in robots:
        per = [t["finetune"]["summary"][robot] for t in deepwe["transfer"]]
        row = {c: {"final": [p[c]["final_success"] for p in per],
                   "steps": [s for p in per for s in p[c]["steps_to_target"]]}
               for c in ("finetuned", "scratch")}  # fmt: skip
        summary[robot] = row
        lines.append(
            f"| {robot} | {mean_sd(zero_shot_of(deepwe['transfer'], robot))} | "
            f"{mean_sd(row['finetuned']['final'])} | {mean_sd(row['scratch']['final'])} | "
            f"{steps_cell(row['finetuned']['steps'])} | {steps_cell(row['scratch']['steps'])} |"
        )
    return lines, summary


def push_finetune_table(deepwe: dict, robots: tuple[str, ...]) -> tuple[list[str], dict]:
    """DeepWe fine-tuned by DAgger (``benchmarks/finetune.py``'s ``compare``) against scratch,
    per robot: zero-shot, steps to 80% and their ratio per seed, mean wall-clock of each."""
    lines = [
        "| robot | zero-shot | fine-tuned steps to 80% | scratch steps to 80% | ratio "
        "| wall-clock fine-tuned / scratch (s) |",
        "|---|---:|---|---|---|---:|",
    ]
    summary: dict = {}
    for robot in robots:
        rows = [f[robot] for f in deepwe["finetune"]]
        steps = {c: [r[c]["steps_to_target"] for r in rows] for c in ("finetuned", "scratch")}
        ratios = [r["ratio"] for r in rows]
        seconds = {c: float(np.mean([r[c]["seconds"] for r in rows])) for c in steps}
        summary[robot] = {"steps_to_target": steps, "ratio": ratios, "seconds": seconds}
        ratio_cell = ", ".join("-" if r is None else f"{r:.2f}" for r in ratios)
        lines.append(
            f"| {robot} | {mean_sd(zero_shot_of(deepwe['transfer'], robot))} | "
            f"{steps_cell(steps['finetuned'])} | {steps_cell(steps['scratch'])} | {ratio_cell} | "
            f"{seconds['finetuned']:.0f} / {seconds['scratch']:.0f} |"
        )
    return lines, summary


def race_table(results: Results) -> tuple[list[str], dict]:
    """Each network's run against the MLP's of the same seed: where it first reached the MLP's
    final success on the training arms, in env steps and seconds, and those as fractions of the
    MLP's whole run. A run's success is known at each DAgger round (``rounds``: the policy
    drove its training arms) and at its end (zero-shot on ``train``). Returns the markdown
    lines and, per network, per seed ``{"final", "env_steps", "seconds"}`` (``None`` where it
    did not reach the MLP's final)."""
    lines = [
        "| network | seed | final success | MLP's final | env steps to it | x MLP's "
        "| seconds to it | x MLP's |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    mlp = results["mlp"]
    summary: dict = {}
    for kind, r in results.items():
        summary[kind] = []
        for seed in range(min(len(r["rounds"]), len(mlp["rounds"]))):
            mlp_steps, mlp_seconds, bar = end_point(mlp, seed)
            points = [*r["rounds"][seed], end_point(r, seed)]
            steps, seconds = next(((s, t) for s, t, v in points if v >= bar), (None, None))
            final = points[-1][2]
            summary[kind].append({"final": final, "env_steps": steps, "seconds": seconds})
            cells = ["-"] * 4 if steps is None else [
                f"{steps:,}", f"{steps / mlp_steps:.2f}", f"{seconds:.0f}",
                f"{seconds / mlp_seconds:.2f}",
            ]  # fmt: skip
            row = [kind, str(seed), f"{final:.2f}", f"{bar:.2f}", *cells]
            lines.append("| " + " | ".join(row) + " |")
    return lines, summary


def end_point(r: dict, seed: int) -> list[float]:
    """A run's end: ``[env steps of demonstrations and PPO, wall-clock, zero-shot success on
    its training arms]``."""
    steps = r["demo_steps"][seed] + r["ppo_steps"][seed]
    return [steps, r["seconds"][seed], r["transfer"][seed]["category_means"]["train"]]


def write_between(path: Path, begin: str, end: str, table: str) -> None:
    """Replace what lies between the ``begin`` and ``end`` markers of ``path`` with ``table``;
    SystemExit with one line when the markers are missing."""
    text = path.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{path} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{begin}\n{table}{end}{tail}")
