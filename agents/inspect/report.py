"""``deepwe-rl inspect``: every view computed first, then written to ``RUN/inspect/`` and to
the run's TensorBoard (``RUN/tb/inspect/``, a run of its own there) in one rename each, so a
failure leaves nothing half-written."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

from deepwe_rl.agents.inspect import attribution as attr
from deepwe_rl.agents.inspect import embeddings as emb
from deepwe_rl.agents.inspect import weights as wts
from deepwe_rl.agents.inspect.model import policy_module, robot_observations
from deepwe_rl.agents.robots import resolve_robots
from deepwe_rl.agents.run_dir import RunDir
from deepwe_rl.envs.robots.catalog import held_out_robots
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
    return list(dict.fromkeys(resolve_robots(run.config().env.robots) + held_out_robots()))


def _slug(robot: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", robot).strip("-")


def _save(writer: SummaryWriter, fig, folder: Path, name: str) -> None:
    """``fig`` as ``folder/name.png`` (nothing cropped) and as a TensorBoard image."""
    path = folder / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    writer.add_figure(f"inspect/{name}", fig, close=True)


def _pair(weights: list[wts.RobotWeights]) -> list[wts.RobotWeights]:
    """Two robots to compare: the first, and the first of another category (else the second)."""
    other = [w for w in weights[1:] if w.category != weights[0].category] or weights[1:]
    return [weights[0], *other[:1]]


def _write_weights(
    writer: SummaryWriter,
    folder: Path,
    weights: list[wts.RobotWeights],
    training: list[wts.RobotWeights],
    transfer_json: Path,
    report: InspectReport,
) -> None:
    """Heat maps, the similarity matrices and, with a transfer result, the scatter."""
    for w in weights:
        _save(writer, wts.heatmap([w]), folder, f"weights/{_slug(w.name)}")
    report.written.append(f"generated-weight heat maps: {len(weights)} robots (weights/)")
    if len(weights) > 1:
        pair = _pair(weights)
        _save(writer, wts.heatmap(pair), folder, "weights_pair")
        report.written.append(f"weights_pair.png: {pair[0].name} beside {pair[1].name}")
    fig, by_weights, by_descriptors = wts.similarity(weights)
    _save(writer, fig, folder, "similarity")
    distance = wts.nearest_training_distance(weights, training)
    shapes = {
        w.name: {
            "joints": int(w.code.shape[0]),
            "code": list(w.code.shape),
            "out": None if w.out is None else list(w.out.shape),
            "distance_to_nearest_training_robot": distance[w.name],
        }
        for w in weights
    }
    (folder / "weights.json").write_text(json.dumps(shapes, indent=2))
    (folder / "similarity.json").write_text(
        json.dumps(
            {
                "robots": [w.name for w in weights],
                "weights": by_weights.round(6).tolist(),
                "descriptors": by_descriptors.round(6).tolist(),
            },
            indent=2,
        )
    )
    report.written.append(f"weight-space similarity: {len(weights)} x {len(weights)}")
    if transfer_json.is_file():
        scatter = wts.transfer_scatter(distance, transfer_json)
        if scatter is not None:
            _save(writer, scatter, folder, "transfer_distance")
            report.written.append("transfer_distance.png: distance against zero-shot success")
    else:
        report.skipped.append(
            "distance against zero-shot success: no transfer/transfer.json (run "
            "deepwe-rl transfer first)"
        )


def _replace(src: Path, target: Path) -> None:
    """Put the finished folder ``src`` at ``target``, replacing what was there."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    src.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _write_attribution(
    writer: SummaryWriter,
    folder: Path,
    name: str,
    title: str,
    robots: list[str],
    results: list[attr.Attribution],
) -> None:
    """One attribution method's heat map (``name.png``) and numbers (``name.json``)."""
    _save(writer, attr.figure(robots, results, title), folder, name)
    table = {
        n: {"joints": a.joints.tolist(), "streams": a.streams}
        for n, a in zip(robots, results, strict=True)
    }
    (folder / f"{name}.json").write_text(json.dumps(table, indent=2))


def inspect_run(
    run: RunDir, robots: list[str], say: Callable[[str], None], noise: float
) -> InspectReport:
    """Compute every view that applies to ``run``'s network for ``robots`` and write them;
    ``noise`` is the scale of the perturbation attribution's noise."""
    cfg = run.config()
    training = resolve_robots(cfg.env.robots)
    policy = policy_module(run)
    net = policy.net
    say(f"observing {len(robots)} robots")
    extra = [r for r in training if r not in robots]
    observed = robot_observations(cfg.env, robots + extra, training)
    observed, training_only = observed[: len(robots)], observed[len(robots) :]
    report = InspectReport(run.path / FOLDER, run.tb / FOLDER)
    deepwe = isinstance(net, DeepWeNet)
    embedded = emb.embeddings(net, observed) if deepwe else None
    weights = [wts.generated_weights(net, r) for r in observed] if deepwe else []
    trained = [w for w in weights if w.name in training] + (
        [wts.generated_weights(net, r) for r in training_only] if deepwe else []
    )
    if not deepwe:
        report.skipped += [
            f"{view}: not applicable to a {cfg.network.kind} network (no hypernetwork)"
            for view in DEEPWE_VIEWS
        ]

    acting = [r for r in observed if r.task_env]
    attributed = [attr.attribution(policy, r.obs) for r in acting]
    perturbed = [attr.perturbation(policy, r.obs, noise) for r in acting]
    if len(acting) < len(observed):
        cannot = ", ".join(r.name for r in observed if not r.task_env)
        report.skipped.append(f"attribution for {cannot}: cannot do the run's task")

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
                if len(embedded.robot_meta) > 2:
                    pca = emb.robot_pca(embedded)
                    (tmp / "embedding_pca.json").write_text(json.dumps(pca, indent=2))
                    _save(writer, emb.pca_figure(pca), tmp, "embedding_pca")
                    report.written.append("embedding_pca.png: robot embeddings, first two PCs")
            if attributed:
                names = [r.name for r in acting]
                title = "what drives the action: share of |gradient x input|"
                _write_attribution(writer, tmp, "attribution", title, names, attributed)
                report.written.append(f"attribution: {len(names)} robots")
                title = f"what moves the action: share of |change| under noise {noise:g}"
                _write_attribution(writer, tmp, "perturbation", title, names, perturbed)
                report.written.append(f"perturbation attribution: {len(names)} robots")
            if weights:
                transfer_json = run.path / "transfer" / "transfer.json"
                _write_weights(writer, tmp, weights, trained, transfer_json, report)
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
