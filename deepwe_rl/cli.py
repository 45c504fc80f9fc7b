"""The ``deepwe-rl`` command: parses arguments, then calls library functions.

Heavy imports (SB3, Ray, PyBullet) happen inside the commands, so ``--help`` stays fast and
never imports Ray. User errors print one line and exit with status 2; Ctrl-C during training
saves a checkpoint and exits with status 130; any other failure prints one line, keeps its
traceback in a file (a run's ``error.log``) and exits with status 1.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from deepwe_rl.agents.run_dir import RunDir

app = typer.Typer(
    help="Train one policy for many robot arms, and measure how it transfers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

RunArg = Annotated[
    Path, typer.Argument(help="A run directory, e.g. runs/quickstart-20261121-101500.")
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Show Ray's own logs too: its INFO lines, the env runners' and env actors' "
        "output, its C++ warnings; and where the rollouts run.",
    ),
]


class _ConsoleHandler(logging.Handler):
    """deepwe_rl's log records as lines on stderr: warnings in yellow, errors in red."""

    def emit(self, record: logging.LogRecord) -> None:
        style = "red" if record.levelno >= logging.ERROR else "yellow"
        err_console.print(
            self.format(record),
            style=style if record.levelno >= logging.WARNING else None,
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


@app.callback()
def _console_logging() -> None:
    """deepwe_rl's warnings (a restarted env runner, say) go to stderr as lines of their own."""
    logger = logging.getLogger("deepwe_rl")
    if not any(isinstance(h, _ConsoleHandler) for h in logger.handlers):
        logger.addHandler(_ConsoleHandler())
        logger.propagate = False
    logger.setLevel(logging.WARNING)


def _verbosity(verbose: bool) -> None:
    """``--verbose``: Ray's own logging as Ray sets it, and deepwe_rl's INFO lines."""
    from deepwe_rl.agents import ray_logging

    ray_logging.set_verbose(verbose)
    if verbose:
        logging.getLogger("deepwe_rl").setLevel(logging.INFO)


def _fail(message: str, code: int = EXIT_USER_ERROR) -> NoReturn:
    if not message.startswith("config error:"):
        message = f"error: {message}"
    err_console.print(message, style="red", highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(code)


def _bad_input(err: Exception) -> bool:
    """Whether ``err`` comes from deepwe_rl's input checks (``failures.is_bad_input``)."""
    from deepwe_rl.agents.failures import is_bad_input

    return is_bad_input(err)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one line and exit status 2. Any other error is one
    line and exit status 1, its traceback in the run's ``error.log`` (or, with no run yet, in a
    temporary file the line names)."""
    from deepwe_rl.agents.failures import summary, write_traceback
    from deepwe_rl.agents.interrupts import TrainingFailed, TrainingInterrupted

    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except TrainingInterrupted as stop:
        err_console.print(f"[yellow]{stop}[/]", highlight=False, soft_wrap=True)
        run = stop.checkpoint.parent.parent
        err_console.print(f"resume with: deepwe-rl resume {run}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except TrainingFailed as err:
        _fail(str(err), EXIT_FAILED)
    except Exception as err:
        if _bad_input(err):
            _fail(str(err))
        log = write_traceback(err, " ".join(["deepwe-rl", *sys.argv[1:]]))
        _fail(f"internal error: {summary(err)}; traceback in {log}", EXIT_FAILED)


def _open_run(path: Path):
    from deepwe_rl.agents.run_dir import open_run_dir

    return open_run_dir(path)


@app.command()
def train(
    config: Annotated[
        Path, typer.Argument(help="A YAML run config, e.g. configs/quickstart.yaml.")
    ],
    overrides: Annotated[
        list[str] | None,
        typer.Argument(help="key.sub=value overrides, e.g. total_timesteps=2000 network.kind=mlp"),
    ] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Train from a config file into runs/<name>-<time>/."""
    _verbosity(verbose)
    with _user_errors():
        from deepwe_rl.config import load_config

        cfg = load_config(config, overrides or [])  # before torch loads: bad input answers fast
        from deepwe_rl.agents import training

        started = time.perf_counter()
        run = training.start(cfg)
        seconds = time.perf_counter() - started
        console.print(
            f"trained {cfg.total_timesteps} steps in {seconds:.0f}s: {run.path}",
            highlight=False,
            soft_wrap=True,
        )
        _report(run)
        console.print(f"watch: tensorboard --logdir {run.tb}", highlight=False, soft_wrap=True)


@app.command()
def resume(run_dir: RunArg, verbose: VerboseOpt = False) -> None:
    """Continue an interrupted or killed run from its newest checkpoint."""
    _verbosity(verbose)
    with _user_errors():
        from deepwe_rl.agents import training

        run = _open_run(run_dir)
        training.resume(run)
        console.print(f"resumed and finished: {run.path}", highlight=False, soft_wrap=True)
        _report(run)


def _robot_list(robots: list[str] | None, default: Callable[[], list[str]]) -> list[str]:
    """The robots of a ``--robots`` option, checked; ``default()`` when none were given."""
    from deepwe_rl.agents.robots import parse_robot_options

    return parse_robot_options(robots) if robots else default()


@app.command("eval")
def evaluate(
    run_dir: RunArg,
    robots: Annotated[
        list[str] | None,
        typer.Option("--robots", help="Robot names or a split (repeat or comma-separate)."),
    ] = None,
    episodes: Annotated[int, typer.Option(min=1, help="Episodes per robot.")] = 10,
) -> None:
    """Evaluate the run's policy per robot: success rate, return, episode length."""
    with _user_errors():
        from deepwe_rl.agents import training
        from deepwe_rl.agents.evaluation import Evaluator, per_robot_table, write_eval_json
        from deepwe_rl.agents.robots import resolve_robots

        run = _open_run(run_dir)
        cfg = run.config()
        names = _robot_list(robots, lambda: resolve_robots(cfg.eval.robots or cfg.env.robots))
        policy = training.load_policy(run)
        evaluator = Evaluator(cfg.env, names)
        try:
            results = _with_progress(
                f"evaluating {len(names)} robots", lambda: evaluator.run(policy, episodes)
            )
        finally:
            evaluator.close()
        title = f"{run.path.name}: {episodes} episodes per robot"
        console.print(_eval_table(title, per_robot_table(results)))
        out = write_eval_json(run.eval / f"cli-{time.strftime('%Y%m%d-%H%M%S')}.json", results)
        console.print(f"wrote {out}", highlight=False)


def _eval_table(title: str, rows: dict[str, dict[str, float]]) -> Table:
    """Per-robot evaluation rows (as in the eval JSON's ``robots``) as a console table."""
    table = Table(title=title)
    for column in ("robot", "success", "95% CI", "return", "length", "final dist."):
        table.add_column(column, justify="left" if column == "robot" else "right")
    for robot, row in rows.items():
        table.add_row(
            robot,
            f"{row['success_rate']:.2f}",
            f"{row['success_ci_low']:.2f}-{row['success_ci_high']:.2f}",
            f"{row['return']:.2f}",
            f"{row['episode_length']:.1f}",
            f"{row['final_distance']:.3f}",
        )
    return table


def _report(run: RunDir) -> None:
    """How a finished run went: its last evaluation per robot, and where its files are."""
    last = run.last_eval()
    if last is None:
        console.print("no evaluation ran (eval.freq: 0)", highlight=False)
    else:
        payload = json.loads(last.read_text())
        title = f"{run.path.name}: last evaluation, step {payload['step']}"
        console.print(_eval_table(title, payload["robots"]))
        overall = payload["overall"]["success_rate"]
        console.print(f"overall eval success {overall:.2f}", highlight=False)
    for what, path in (("model", run.final_model), ("eval", last), ("tensorboard", run.tb)):
        if path is not None:
            console.print(f"{what}: {path}", highlight=False, soft_wrap=True)


def _say(line: str) -> None:
    err_console.print(line, highlight=False, soft_wrap=True)


def _with_progress(label: str, work: Callable[[], object]):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn(label),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        progress.add_task(label, total=None)
        return work()


@app.command()
def record(
    run_dir: RunArg,
    robot: Annotated[str, typer.Option(help="The robot to film.")],
    out: Annotated[Path, typer.Option(help="Output video: .mp4 or .gif.")],
    episodes: Annotated[int, typer.Option(min=1, help="Episodes to film.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed of the first episode.")] = 0,
) -> None:
    """Film the run's policy on one robot."""
    with _user_errors():
        from deepwe_rl.agents import training
        from deepwe_rl.agents.recording import record_video

        if out.suffix.lower() not in (".mp4", ".gif"):
            _fail(f"--out must end in .mp4 or .gif, got '{out.name}'")
        run = _open_run(run_dir)
        cfg = run.config()
        _robot_list([robot], list)
        policy = training.load_policy(run)
        frames = _with_progress(
            f"recording {robot}", lambda: record_video(cfg.env, robot, policy, out, episodes, seed)
        )
        console.print(f"wrote {out} ({frames} frames)", highlight=False)


@app.command()
def transfer(
    run_dir: RunArg,
    split: Annotated[
        list[str] | None,
        typer.Option("--split", help="A named split to evaluate on (repeatable)."),
    ] = None,
    robots: Annotated[
        list[str] | None,
        typer.Option("--robots", help="Robot names, urdf:<path> arms or splits (repeatable)."),
    ] = None,
    episodes: Annotated[int, typer.Option(min=1, help="Zero-shot episodes per robot.")] = 20,
    finetune_steps: Annotated[
        int, typer.Option(min=0, help="Env steps of fine-tuning per held-out robot (0: none).")
    ] = 0,
    seeds: Annotated[int, typer.Option(min=1, help="Fine-tuning seeds per robot.")] = 1,
    finetune_robots: Annotated[
        list[str] | None,
        typer.Option(
            "--finetune-robots", help="Fine-tune only these (default: every held-out robot)."
        ),
    ] = None,
    finetune_episodes: Annotated[
        int, typer.Option(min=1, help="Episodes per evaluation along a fine-tuning curve.")
    ] = 10,
    target: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Success rate the steps-to-target count to.")
    ] = 0.8,
    verbose: VerboseOpt = False,
) -> None:
    """Measure how the run's policy transfers to other robots: zero-shot, and optionally
    fine-tuned against training from scratch. Writes <run>/transfer/ and TensorBoard."""
    _verbosity(verbose)
    with _user_errors():
        from deepwe_rl.agents.interrupts import TrainingInterrupted
        from deepwe_rl.agents.transfer.evaluate import transfer as run_transfer
        from deepwe_rl.agents.transfer.selection import evaluated_robots, finetuned_robots

        run = _open_run(run_dir)
        names = evaluated_robots(run.config().env, split or [], robots or [])
        chosen = finetuned_robots(finetune_robots or [], names)
        try:
            result, folder = run_transfer(
                run,
                names,
                episodes,
                finetune_steps=finetune_steps,
                seeds=seeds,
                finetune_episodes=finetune_episodes,
                target=target,
                finetune_robots=chosen,
                say=_say,
            )
        except TrainingInterrupted:
            err_console.print("[yellow]transfer interrupted: nothing was written[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        for curve in result.curves:
            _report(_open_run(folder / str(curve.run)))
        table = Table(title=f"{run.path.name}: zero-shot transfer, {episodes} episodes per robot")
        for column in ("robot", "category", "joints", "success", "95% CI", "final dist."):
            table.add_column(column, justify="left" if column in ("robot", "category") else "right")
        for z in result.zero_shot:
            table.add_row(
                z.robot,
                z.category,
                str(z.joints),
                f"{z.success_rate:.2f}",
                f"{z.success_ci_low:.2f}-{z.success_ci_high:.2f}",
                f"{z.final_distance:.3f}",
            )
        console.print(table)
        for name, rate in result.category_means().items():
            console.print(f"{name}: mean zero-shot success {rate:.2f}", highlight=False)
        console.print(f"wrote {folder}", highlight=False)


@app.command()
def inspect(
    run_dir: RunArg,
    robots: Annotated[
        list[str] | None,
        typer.Option(
            "--robots",
            help="Robot names, urdf:<path> arms or splits (repeatable). urdf: arms alone are "
            "added to the default: the run's robots and every held-out split.",
        ),
    ] = None,
    split: Annotated[
        list[str] | None,
        typer.Option("--split", help="A named split to inspect (repeatable)."),
    ] = None,
    noise: Annotated[
        float,
        typer.Option(
            help="Standard deviation of the Gaussian noise the perturbation attribution adds "
            "to one joint's or one stream's inputs (observation units: joint states lie in "
            "[-1, 1], positions are in metres).",
        ),
    ] = 0.05,
) -> None:
    """See inside the run's weight space: embedding projector, generated-weight heat maps,
    weight-space similarity and attribution (gradient x input, and perturbation). Writes
    <run>/inspect/ and <run>/tb/inspect/."""
    with _user_errors():
        from deepwe_rl.agents.inspect.report import default_robots, inspect_run
        from deepwe_rl.agents.robots import split_members

        if noise <= 0:
            _fail(f"--noise must be above 0, got {noise:g}")
        run = _open_run(run_dir)
        asked = _robot_list(robots, list)
        names = split_members(split or []) + asked
        if not split and all(r.startswith("urdf:") for r in asked):
            names = default_robots(run) + asked
        names = list(dict.fromkeys(names))
        report = _with_progress(
            f"inspecting {len(names)} robots", lambda: inspect_run(run, names, _say, noise)
        )
        for line in report.written:
            console.print(f"wrote {line}", highlight=False, soft_wrap=True)
        for line in report.skipped:
            console.print(f"skipped {line}", highlight=False, soft_wrap=True)
        console.print(
            f"wrote {report.folder} and {report.tb_folder}", highlight=False, soft_wrap=True
        )
        console.print(f"view: tensorboard --logdir {run.tb}", highlight=False, soft_wrap=True)


@app.command()
def robots(
    picture: Annotated[
        Path | None, typer.Option(help="Also save a picture of every robot (PNG).")
    ] = None,
) -> None:
    """List the robot catalog and the named splits."""
    with _user_errors():
        from deepwe_rl.envs.robots.catalog import SPLITS, catalog_names
        from deepwe_rl.envs.vector import make_env

        table = Table(title="robots")
        for column in ("robot", "joints", "gripper", "splits"):
            table.add_column(column)
        for name in catalog_names():
            env = make_env("reach", name)
            arm = env.unwrapped.arm
            member = ", ".join(s for s, names in SPLITS.items() if name in names)
            table.add_row(name, str(arm.num_joints), "yes" if arm.has_gripper else "no", member)
            env.close()
        console.print(table)
        console.print("Any URDF arm: robot=urdf:<path> (ee_link=<link> to name its end effector).")
        if picture is not None:
            from deepwe_rl.envs.gallery import save_gallery

            console.print(f"wrote {save_gallery(picture, catalog_names())}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
