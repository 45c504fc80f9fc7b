"""``deepwe-rl inspect``: every view computed first, then written to ``RUN/inspect/`` and to
the run's TensorBoard (``RUN/tb/inspect/``, a run of its own there) in one rename each, so a
failure leaves nothing half-written."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deepwe_rl.agents.inspect import embeddings as emb
from deepwe_rl.agents.inspect.model import policy_module, robot_observations
from deepwe_rl.agents.robots import resolve_robots
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.envs.robots.catalog import HELD_OUT, SPLITS
from torch.utils.tensorboard import SummaryWriter

from deepwe_rl.nn.deepwe import DeepWeNet

FOLDER = "inspect"
DEEPWE_VIEWS = ("embedding projector", "generated-weight heat maps", "weight-space similarity")
"""Views that read the hypernetwork, so exist for DeepWe networks only."""


@dataclass
class InspectReport:
    """What ``inspect_run`` wrote (``folder``, ``tb_folder``, one line per file or view in
    ``written``) and the views it ``skipped``, each with its reason."""

    folder: Path
    tb_folder: Path
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def default_robots(run: RunDir) -> list[str]:
    """The run's robots, then every robot of the held-out splits."""
    names = resolve_robots(run.config().env.robots)
    return list(dict.fromkeys(names + [r for s in HELD_OUT for r in SPLITS[s]]))


def _replace(src: Path, target: Path) -> None:
    """Put the finished folder ``src`` at ``target``, replacing what was there."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    src.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def inspect_run(run: RunDir, robots: list[str], say: Callable[[str], None]) -> InspectReport:
    """Compute every view that applies to ``run``'s network for ``robots`` and write them."""
    cfg = run.config()
    training = resolve_robots(cfg.env.robots)
    policy = policy_module(run)
    net = policy.net
    say(f"observing {len(robots)} robots")
    observed = robot_observations(cfg.env, robots, training)
    report = InspectReport(run.path / FOLDER, run.tb / FOLDER)
    deepwe = isinstance(net, DeepWeNet)
    embedded = emb.embeddings(net, observed) if deepwe else None
    if not deepwe:
        report.skipped += [
            f"{view}: not applicable to a {cfg.network.kind} network (no hypernetwork)"
            for view in DEEPWE_VIEWS
        ]

    tmp = run.path / f".{FOLDER}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        writer = SummaryWriter(log_dir=str(tmp))
        try:
            if embedded is not None:
                emb.write_projector(writer, embedded)
                report.written.append(
                    f"embedding projector: {len(embedded.robot_meta)} robots, "
                    f"{len(embedded.joint_meta)} joints"
                )
        finally:
            writer.close()
        tb_tmp = run.tb / f".{FOLDER}-{os.getpid()}"
        shutil.rmtree(tb_tmp, ignore_errors=True)
        shutil.copytree(tmp, tb_tmp, ignore=shutil.ignore_patterns("*.png", "*.json"))
        _replace(tb_tmp, report.tb_folder)
        _replace(tmp, report.folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report
