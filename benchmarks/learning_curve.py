"""Plot a run's success-rate curves (training episodes and periodic evaluation) from its
TensorBoard logs, read back with tensorboard's own reader.

    python benchmarks/learning_curve.py RUN_DIR --out docs/figures/quickstart.png

Prints the points it plotted as JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TAGS = {"rollout/success_rate": "training episodes (last 100 per robot)",
        "eval/success_rate": "evaluation (deterministic)"}  # fmt: skip


def curves(tb: Path) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(tb.glob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events))
        acc.Reload()
        for tag in TAGS:
            if tag in acc.Tags()["scalars"]:
                out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return {tag: sorted(points) for tag, points in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    found = curves(args.run / "tb")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for tag, points in found.items():
        steps, values = zip(*points, strict=True)
        ax.plot(steps, values, marker="o" if tag.startswith("eval") else None, label=TAGS[tag])
    ax.set_xlabel("env steps")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(args.run.name)
    ax.legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(json.dumps({tag: [[s, round(v, 3)] for s, v in pts] for tag, pts in found.items()}))


if __name__ == "__main__":
    main()
