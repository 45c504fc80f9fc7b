"""Plot a run's success-rate curves (training episodes and periodic evaluation) from its
TensorBoard logs, read back with tensorboard's own reader.

    python benchmarks/learning_curve.py RUN_DIR --out docs/figures/quickstart.png [--per-robot]

A run that began with demonstrations (the config's ``demonstrations`` section) is plotted on
total env steps: each behaviour-cloning round's success at the env steps spent so far, then RL's
curves shifted by the demonstrations' env steps. ``--per-robot`` adds a panel with each robot's
evaluation success.

Prints the points it plotted as JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator, ScalarEvent

TAGS = {"rollout/success_rate": "training episodes (last 100 per robot)",
        "eval/success_rate": "evaluation (deterministic)",
        "demonstrations/success": "DAgger rounds (the policy drove)",
        "demonstrations/expert": "scripted expert (it drove)"}  # fmt: skip
Curves = dict[str, list[tuple[int, float]]]


def scalar_events(tb: Path) -> dict[str, list[ScalarEvent]]:
    """Every scalar tag's events (step, value, wall time) in the run's event files, sorted by
    step."""
    out: dict[str, list[ScalarEvent]] = {}
    for events in sorted(tb.glob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events))
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend(acc.Scalars(tag))
    return {tag: sorted(found, key=lambda e: (e.step, e.wall_time)) for tag, found in out.items()}


def scalars(tb: Path) -> Curves:
    """Every scalar tag of the run's event files as (step, value), sorted by step."""
    return {tag: [(e.step, e.value) for e in found] for tag, found in scalar_events(tb).items()}


def dagger_rounds(run: Path, seconds: float) -> list[list[float]]:
    """``[env steps so far, seconds, success]`` at each DAgger round of a run that began with
    demonstrations (the policy drove; not round 0, where the expert did), from TensorBoard.

    ``seconds`` is the run's whole wall-clock, measured around its process: the clock starts
    that long before its final model was saved, so start-up and exit both count before the
    first round, and the run's end is at ``seconds``."""
    found = scalar_events(run / "tb")
    start = (run / "model.zip").stat().st_mtime - seconds
    spent, success = found["demonstrations/env_steps"], found["demonstrations/success"]
    return [
        [int(s.value), round(r.wall_time - start, 1), round(r.value, 4)]
        for s, r in zip(spent[1:], success[1:], strict=True)
    ]


def on_total_steps(found: Curves) -> tuple[Curves, int]:
    """The curves on total env steps (demonstrations first), and the demonstrations' steps."""
    spent = [int(v) for _, v in found.get("demonstrations/env_steps", [])]
    offset = spent[-1] if spent else 0
    out = {
        tag: [(s + offset, v) for s, v in points]
        for tag, points in found.items()
        if not tag.startswith("demonstrations/")
    }
    if spent:
        rounds = [(s, v) for s, (_, v) in zip(spent, found["demonstrations/success"], strict=True)]
        out["demonstrations/expert"], out["demonstrations/success"] = rounds[:1], rounds[1:]
    return out, offset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-robot", action="store_true")
    args = parser.parse_args()
    found, offset = on_total_steps(scalars(args.run / "tb"))
    robots = sorted(
        t
        for t in found
        if t.startswith("eval/") and t.endswith("/success_rate") and t.count("/") == 2
    )
    panels = 2 if args.per_robot else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.8), squeeze=False)
    ax = axes[0][0]
    for tag, label in TAGS.items():
        if tag in found:
            steps, values = zip(*found[tag], strict=True)
            ax.plot(steps, values, marker=None if tag.startswith("rollout") else "o", label=label)
    if offset:
        ax.axvline(offset, color="grey", linestyle=":", label="RL starts")
    if args.per_robot:
        for tag in robots:
            steps, values = zip(*found[tag], strict=True)
            axes[0][1].plot(steps, values, marker="o", label=tag.split("/")[1])
        axes[0][1].set_title("evaluation per robot")
        axes[0][1].legend(fontsize=7, ncol=2)
    for a in axes[0]:
        a.set_xlabel("env steps" + (" (demonstrations included)" if offset else ""))
        a.set_ylabel("success rate")
        a.set_ylim(-0.02, 1.02)
    ax.set_title(args.run.name)
    ax.legend(fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    shown = [*TAGS, *robots] if args.per_robot else list(TAGS)
    print(json.dumps({t: [[s, round(v, 3)] for s, v in found[t]] for t in shown if t in found}))


if __name__ == "__main__":
    main()
