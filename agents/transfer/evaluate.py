"""``deepwe-rl transfer``: zero-shot evaluation of a run on many robots, optional fine-tuning
on the held-out ones, and every output written into ``<run>/transfer/`` in one rename."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from deepwe_rl.agents import training
from deepwe_rl.agents.evaluation import Evaluator, per_robot_table
from deepwe_rl.agents.robots import resolve_robots
from deepwe_rl.agents.run_dir import RunDir, atomic_save
from deepwe_rl.agents.transfer import plots, tables
from deepwe_rl.agents.transfer.finetune import finetune
from deepwe_rl.agents.transfer.results import CATEGORIES, TransferResult, ZeroShot, category
from deepwe_rl.config import ConfigError

FOLDER = "transfer"


def trained_steps(run: RunDir) -> int:
    """Env steps behind the run's policy: its newest checkpoint's, else the configured total."""
    latest = run.latest_checkpoint()
    return latest[0] if latest else run.config().total_timesteps


def zero_shot(run: RunDir, robots: list[str], episodes: int) -> list[ZeroShot]:
    """The run's deterministic policy on every robot, ordered by category."""
    cfg = run.config()
    training_robots = resolve_robots(cfg.env.robots)
    try:
        evaluator = Evaluator(cfg.env, robots)
    except (ValueError, FileNotFoundError) as err:
        raise ConfigError(str(err)) from None
    try:
        joints = {
            r: e.unwrapped.arm.num_joints for r, e in zip(robots, evaluator.envs, strict=True)
        }
        table = per_robot_table(evaluator.run(training.load_policy(run), episodes))
    finally:
        evaluator.close()
    rows = [
        ZeroShot(
            robot,
            category(robot, training_robots),
            joints[robot],
            int(row["episodes"]),
            row["success_rate"],
            row["success_ci_low"],
            row["success_ci_high"],
            row["return"],
            row["episode_length"],
            row["final_distance"],
        )
        for robot, row in table.items()
    ]
    return sorted(rows, key=lambda z: CATEGORIES.index(z.category))


def transfer(
    run: RunDir,
    robots: list[str],
    episodes: int,
    *,
    finetune_steps: int = 0,
    seeds: int = 1,
    finetune_episodes: int = 10,
    target: float = 0.8,
    finetune_robots: list[str] | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[TransferResult, Path]:
    """Evaluate ``run`` zero-shot on ``robots`` (a robot whose env cannot be built stops it
    before any work); with ``finetune_steps``, also fine-tune each
    robot the run did not train on (or only ``finetune_robots``), ``seeds`` times, next to the
    same budget from scratch.
    Returns the result and the ``transfer/`` folder, written whole or not at all."""
    cfg = run.config()
    say(f"zero-shot: {len(robots)} robots x {episodes} episodes")
    result = TransferResult(
        run=run.path.name,
        backend=cfg.backend,
        network=cfg.network.kind,
        trained_steps=trained_steps(run),
        training_robots=resolve_robots(cfg.env.robots),
        zero_shot=zero_shot(run, robots, episodes),
        finetune_steps=finetune_steps,
        target=target,
    )

    def write(folder: Path) -> None:
        folder.mkdir()
        if finetune_steps:
            for z in result.zero_shot:
                if z.category == "train" or (finetune_robots and z.robot not in finetune_robots):
                    continue
                for seed in range(seeds):
                    say(f"fine-tuning {z.robot}, seed {seed}: {finetune_steps} steps, twice")
                    result.curves += finetune(
                        cfg,
                        run.path,
                        z.robot,
                        finetune_steps,
                        cfg.seed + seed,
                        finetune_episodes,
                        folder,
                        z.success_rate,
                    )
        tables.write_json(result, folder / "transfer.json")
        tables.write_csv(result, folder / "transfer.csv")
        tables.write_markdown(result, folder / "transfer.md")
        plots.heatmap(result).savefig(folder / "heatmap.png", dpi=120, bbox_inches="tight")
        if result.curves:
            plots.finetune_curves(result).savefig(folder / "finetune_curves.png", dpi=120)

    folder = atomic_save(run.path / FOLDER, write)
    write_tensorboard(run, result)
    return result, folder


def write_tensorboard(run: RunDir, result: TransferResult) -> None:
    """Per-robot and per-category scalars, fine-tuning curves (mean over seeds) and both
    figures, into the run's TensorBoard logs under ``transfer/``."""
    from torch.utils.tensorboard import SummaryWriter

    step = result.trained_steps
    with SummaryWriter(str(run.tb), filename_suffix=".transfer") as writer:
        for z in result.zero_shot:
            writer.add_scalar(f"transfer/{z.robot}/zero_shot_success", z.success_rate, step)
            writer.add_scalar(f"transfer/{z.robot}/final_distance", z.final_distance, step)
        for name, rate in result.category_means().items():
            writer.add_scalar(f"transfer/{name}/zero_shot_success", rate, step)
        for robot in dict.fromkeys(c.robot for c in result.curves):
            for condition in ("finetuned", "scratch"):
                runs = [c for c in result.curves if c.robot == robot and c.condition == condition]
                mean = np.mean([c.success for c in runs], axis=0)
                for s, value in zip(runs[0].steps, mean, strict=True):
                    writer.add_scalar(f"transfer/{robot}/{condition}_success", value, s)
        writer.add_figure("transfer/heatmap", plots.heatmap(result), step)
        if result.curves:
            writer.add_figure("transfer/finetune_curves", plots.finetune_curves(result), step)
