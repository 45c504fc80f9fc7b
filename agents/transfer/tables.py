"""``transfer.json``, ``transfer.csv`` and ``transfer.md``: one row per robot, the same numbers
in each."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, fields
from pathlib import Path

from deepwe_rl.agents.transfer.results import TransferResult, ZeroShot

ZERO_SHOT_COLUMNS = tuple(f.name for f in fields(ZeroShot))
COLUMNS = (
    *ZERO_SHOT_COLUMNS,
    "finetuned_final_success",
    "scratch_final_success",
    "finetuned_steps_to_target",
    "scratch_steps_to_target",
)


def rows(result: TransferResult) -> list[dict[str, object]]:
    """Per robot: the zero-shot figures, then (for fine-tuned robots) the final success rate and
    median steps to the target of each condition; None where not measured or not reached."""
    summary = result.finetune_summary()
    out = []
    for z in result.zero_shot:
        row: dict[str, object] = asdict(z)
        for condition in ("finetuned", "scratch"):
            s = summary.get(z.robot, {}).get(condition)
            row[f"{condition}_final_success"] = None if s is None else s.final_success
            row[f"{condition}_steps_to_target"] = None if s is None else s.median_steps_to_target
        out.append(row)
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_json(result: TransferResult, path: Path) -> None:
    path.write_text(json.dumps(result.to_dict(), indent=2))


def write_csv(result: TransferResult, path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows(result))


def markdown(result: TransferResult) -> str:
    """The per-robot table and the mean zero-shot success per category."""
    lines = [
        f"# Transfer: {result.run}",
        "",
        f"{result.network} network, {result.backend} backend, trained {result.trained_steps} "
        f"env steps on {len(result.training_robots)} robots. Success rates with 95% Wilson "
        "intervals; empty cells were not measured.",
    ]
    if result.finetune_steps:
        lines.append(
            f"Fine-tuning: {result.finetune_steps} env steps per held-out robot from the trained "
            f"weights (`finetuned`) and from scratch (`scratch`); steps to target are the median "
            f"over seeds of the first evaluation with success >= {result.target}."
        )
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows(result):
        lines.append("| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |")
    lines += ["", "| category | mean zero-shot success |", "|---|---|"]
    lines += [f"| {name} | {rate:.3f} |" for name, rate in result.category_means().items()]
    return "\n".join(lines) + "\n"


def write_markdown(result: TransferResult, path: Path) -> None:
    path.write_text(markdown(result))
