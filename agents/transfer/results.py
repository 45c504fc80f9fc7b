"""What a transfer evaluation measures, and the summaries every output format shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from deepwe_rl.envs.robots.catalog import HELD_OUT, SPLITS

CATEGORIES = ("train", *HELD_OUT, "other")
"""Heatmap and table order: the run's training robots, then the held-out splits, then any
robot of no split (a user's URDF, say)."""


def category(robot: str, training: list[str]) -> str:
    """``train`` for the run's own robots, else the held-out split holding ``robot``."""
    if robot in training:
        return "train"
    for name in HELD_OUT:
        if robot in SPLITS[name]:
            return name
    return "other"


@dataclass(frozen=True)
class ZeroShot:
    """The trained policy on one robot, no further training."""

    robot: str
    category: str
    joints: int
    episodes: int
    success_rate: float
    success_ci_low: float
    success_ci_high: float
    mean_return: float
    episode_length: float
    final_distance: float


@dataclass(frozen=True)
class Curve:
    """Eval success rate against env steps of one fine-tuning run on one robot.

    ``condition`` is ``finetuned`` (started from the trained weights) or ``scratch``; ``run``
    is the fine-tuning run's folder, relative to the ``transfer/`` folder.
    """

    robot: str
    condition: str
    seed: int
    steps: list[int]
    success: list[float]
    run: str | None = None

    def steps_to(self, target: float) -> int | None:
        """The first evaluated step at which success reached ``target``; None if never."""
        return next((s for s, v in zip(self.steps, self.success, strict=True) if v >= target), None)


@dataclass
class FinetuneSummary:
    """One robot and condition over all seeds: the mean final success and the steps each seed
    needed to reach the target (None where it did not)."""

    final_success: float
    steps_to_target: list[int | None]

    @property
    def median_steps_to_target(self) -> float | None:
        """Median over seeds, counting a seed that never got there as not reached; None when
        half or more never did."""
        reached = sorted(s for s in self.steps_to_target if s is not None)
        if len(reached) * 2 <= len(self.steps_to_target):
            return None
        padded = reached + [np.inf] * (len(self.steps_to_target) - len(reached))
        return float(np.median(padded))


@dataclass
class TransferResult:
    """Everything ``deepwe-rl transfer`` measured on one run."""

    run: str
    backend: str
    network: str
    trained_steps: int
    training_robots: list[str]
    zero_shot: list[ZeroShot]
    finetune_steps: int = 0
    target: float = 0.8
    curves: list[Curve] = field(default_factory=list)

    def category_means(self) -> dict[str, float]:
        """Mean zero-shot success rate over the robots of each category present."""
        out: dict[str, float] = {}
        for name in CATEGORIES:
            rates = [z.success_rate for z in self.zero_shot if z.category == name]
            if rates:
                out[name] = float(np.mean(rates))
        return out

    def finetune_summary(self) -> dict[str, dict[str, FinetuneSummary]]:
        """Robot -> condition -> summary over seeds."""
        out: dict[str, dict[str, FinetuneSummary]] = {}
        for curve in self.curves:
            out.setdefault(curve.robot, {})
        for robot, by_condition in out.items():
            for condition in ("finetuned", "scratch"):
                runs = [c for c in self.curves if c.robot == robot and c.condition == condition]
                if runs:
                    by_condition[condition] = FinetuneSummary(
                        float(np.mean([c.success[-1] for c in runs])),
                        [c.steps_to(self.target) for c in runs],
                    )
        return out

    def to_dict(self) -> dict:
        summary = {
            robot: {
                condition: {
                    "final_success": s.final_success,
                    "steps_to_target": s.steps_to_target,
                    "median_steps_to_target": s.median_steps_to_target,
                }
                for condition, s in by_condition.items()
            }
            for robot, by_condition in self.finetune_summary().items()
        }
        return {
            "run": self.run,
            "backend": self.backend,
            "network": self.network,
            "trained_steps": self.trained_steps,
            "training_robots": self.training_robots,
            "zero_shot": [asdict(z) for z in self.zero_shot],
            "category_means": self.category_means(),
            "finetune": {
                "steps": self.finetune_steps,
                "target": self.target,
                "summary": summary,
                "curves": [asdict(c) for c in self.curves],
            },
        }
