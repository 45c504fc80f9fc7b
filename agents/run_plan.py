"""What a run trains, decided once by ``agents.training`` before a backend starts: the backend
takes the plan as it is and neither checks nor resolves any of it again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.config import RunConfig


@dataclass(frozen=True)
class RunPlan:
    """A checked config and everything resolved from it.

    ``robots`` train side by side and ``eval_robots`` are evaluated (the training robots unless
    ``eval.robots`` names others). ``source`` is the ``init_from`` run whose policy weights a
    fresh run starts from; ``checkpoint`` is the ``(step, path)`` a resumed run continues from,
    and then ``source`` is None (the checkpoint holds the weights). ``uses_ray``: the run's
    rollouts need Ray, which ``agents.training`` has started (or joined) around the backend.
    """

    cfg: RunConfig
    robots: list[str]
    eval_robots: list[str]
    source: RunDir | None = None
    checkpoint: tuple[int, Path] | None = None
    uses_ray: bool = False
