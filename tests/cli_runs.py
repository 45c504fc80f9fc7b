"""Running the deepwe-rl command as a user does, and reading back what it wrote."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).parent.parent
CLI = [sys.executable, "-m", "deepwe_rl.cli"]
TENSORBOARD = [sys.executable, "-m", "tensorboard.main"]
TINY = [
    "total_timesteps=600",
    "env.n_envs=2",
    "env.robots=[panda,proc:2:0]",
    "algo.n_steps=64",
    "algo.batch_size=64",
    "algo.n_epochs=1",
    "eval.freq=256",
    "eval.episodes=1",
    "checkpoint.freq=256",
    "network.hidden=64",
]

TINY_OFF_POLICY = [
    "total_timesteps=300",
    "env.n_envs=2",
    "env.robots=[panda,proc:2:0]",
    "network.hidden=64",
    "algo.batch_size=32",
    "algo.buffer_size=1000",
    "algo.learning_starts=100",
]
"""A tiny SAC or TQC run with HER (the configs' own setting): 100 updates. Add its eval and
checkpoint settings."""


def run_cli(
    *args: str, timeout: float = 480, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``deepwe-rl *args`` run in ``cwd`` (the repository root unless given), with ``env`` as
    its whole environment when given."""
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )


def train_tiny(runs: Path) -> Path:
    """A tiny quickstart run (600 steps, panda and proc:2:0) trained by the CLI into
    ``runs``; its run directory."""
    result = run_cli("train", "configs/quickstart.yaml", *TINY, f"runs_dir={runs}")
    assert result.returncode == 0, result.stderr
    return only_run(runs)


def user_dir(path: Path, *configs: str) -> Path:
    """``path`` made a user's working directory: the named files of ``configs/`` copied into
    its own ``configs/``, so that runs go to the configs' default ``runs_dir``, ``path/runs``."""
    (path / "configs").mkdir(parents=True, exist_ok=True)
    for name in configs:
        shutil.copy(ROOT / "configs" / name, path / "configs" / name)
    return path


def resume_hint(stderr: str) -> str:
    """The run directory in the ``resume with: deepwe-rl resume RUN`` line an interrupted run
    prints, as printed."""
    [line] = [line for line in stderr.splitlines() if line.startswith("resume with: ")]
    return line.removeprefix("resume with: deepwe-rl resume ")


def only_run(runs: Path) -> Path:
    found = [p for p in runs.iterdir() if not p.name.startswith(".")]
    assert len(found) == 1, found
    return found[0]


def scalar_tags(tb: Path) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for events in sorted(tb.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(events))
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return out


def assert_reports_last_eval(stdout: str, run: Path, robots: list[str]) -> None:
    """A finished run's console output ends with its last evaluation, per robot and overall,
    and where its model, eval JSON and TensorBoard logs are."""
    lines = stdout.splitlines()
    [title] = [i for i, line in enumerate(lines) if "last evaluation, step" in line]
    rows = "\n".join(lines[title:])
    for robot in robots:
        assert robot in rows, stdout
    assert any(line.startswith("overall eval success ") for line in lines[title:]), stdout
    last = sorted((run / "eval").glob("eval_*.json"))[-1]
    for what, path in (("model", run), ("eval", last), ("tensorboard", run / "tb")):
        [shown] = [line for line in lines if line.startswith(f"{what}: ")]
        assert str(path.name) in shown, stdout


def layout_charts(tb: Path) -> dict[str, list[str]]:
    """The custom-scalars layout in a run's TensorBoard folder: category -> chart titles."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.custom_scalar import layout_pb2, metadata

    events = EventAccumulator(str(tb), size_guidance={"tensors": 0})
    events.Reload()
    [config] = events.Tensors(metadata.CONFIG_SUMMARY_TAG)
    layout = layout_pb2.Layout.FromString(config.tensor_proto.string_val[0])
    return {c.title: [chart.title for chart in c.chart] for c in layout.category}


@contextmanager
def tensorboard_server(logdir: Path) -> Iterator[Callable[[str], Any]]:
    """A live ``tensorboard`` on a free loopback port for the block; yields ``get(path)``, the
    JSON of ``/data/<path>``, or None while the server does not answer yet."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [*TENSORBOARD, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> Any:
        try:
            url = f"http://127.0.0.1:{port}/data/{path}"
            return json.loads(urllib.request.urlopen(url, timeout=5).read())
        except OSError:
            return None

    try:
        yield get
    finally:
        server.terminate()
        server.wait(timeout=30)
