"""Fine-tuning on one held-out robot: the same env-step budget from the trained weights and
from scratch, each a small run of its own whose periodic evaluations make the curve."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from deepwe_rl.agents import training
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.agents.transfer.results import Curve
from deepwe_rl.config import RunConfig

FINETUNE_ENVS = 4
"""Envs of the one robot a fine-tuning run trains on."""

CURVE_POINTS = 5
"""Evaluations per fine-tuning run, evenly spaced over its budget."""


def child_config(
    cfg: RunConfig,
    robot: str,
    steps: int,
    seed: int,
    episodes: int,
    runs_dir: Path,
    init_from: Path | None,
) -> RunConfig:
    """``cfg`` narrowed to one robot and ``steps`` env steps, from ``init_from``'s weights or
    from scratch, evaluated ``CURVE_POINTS`` times on that robot."""
    every = max(steps // CURVE_POINTS, 1)
    return cfg.model_copy(
        update={
            "name": f"{'finetuned' if init_from else 'scratch'}-seed{seed}",
            "seed": seed,
            "total_timesteps": steps,
            "runs_dir": str(runs_dir),
            "init_from": None if init_from is None else str(init_from),
            "env": cfg.env.model_copy(update={"robots": [robot], "n_envs": FINETUNE_ENVS}),
            "eval": cfg.eval.model_copy(
                update={"freq": every, "episodes": episodes, "robots": None}
            ),
            "checkpoint": cfg.checkpoint.model_copy(update={"freq": 0, "keep": 1}),
        },
        deep=True,
    )


def slug(robot: str) -> str:
    """``robot`` as a folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", robot).strip("-")


def read_curve(run: RunDir, robot: str, condition: str, seed: int) -> Curve:
    """The eval success rates a finished child run wrote, in step order."""
    steps, success = [], []
    for path in sorted(run.eval.glob("eval_*.json")):
        payload = json.loads(path.read_text())
        steps.append(int(payload["step"]))
        success.append(float(payload["overall"]["success_rate"]))
    return Curve(robot, condition, seed, steps, success)


def finetune(
    cfg: RunConfig,
    source: Path,
    robot: str,
    steps: int,
    seed: int,
    episodes: int,
    folder: Path,
    zero_shot: float,
) -> list[Curve]:
    """Train ``robot`` for ``steps`` env steps from ``source``'s weights and from scratch with
    the same seed, as runs in ``folder/finetune/<robot>/``, ``folder`` being the transfer
    folder being written; the fine-tuned curve starts at step 0 with the zero-shot success
    rate."""
    runs_dir = folder / "finetune" / slug(robot)
    curves = []
    for init in (source, None):
        child = training.start(child_config(cfg, robot, steps, seed, episodes, runs_dir, init))
        condition = "finetuned" if init else "scratch"
        curve = read_curve(child, robot, condition, seed)
        if init is not None:
            curve = Curve(robot, condition, seed, [0, *curve.steps], [zero_shot, *curve.success])
        where = child.path.resolve().relative_to(folder.resolve())
        curves.append(replace(curve, run=str(where)))
    return curves
