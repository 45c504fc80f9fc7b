"""The security audit of docs/cluster.md, checked: loading weights never runs code, no config
value is ever code, and TensorBoard and an embedded Ray expose no dashboard beyond localhost."""

from __future__ import annotations

import ast
import io
import os
import pickle
import shlex
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from stable_baselines3.common.save_util import load_from_zip_file

from deepwe_rl.nn.export import FORMAT, ExportedPolicy
from tests.cli_runs import ROOT, TINY, run_cli
from tests.processes import Listener, descendants, listening

SOURCES = ("deepwe_rl", "agents", "envs", "benchmarks")
"""Everything that runs as deepwe-rl or its benchmarks (tests excluded)."""

RUNS_CODE = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "importlib.import_module",
    "pydoc.locate",
    "runpy.run_path",
    "runpy.run_module",
    "yaml.load",
    "yaml.load_all",
    "yaml.full_load",
    "yaml.unsafe_load",
}
"""Calls that turn a string (or a document's tags) into code or imports."""


def _name(node: ast.expr) -> str:
    """``torch.load`` for ``torch.load(...)``'s function, '' for what is not a dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := _name(node.value)):
        return f"{base}.{node.attr}"
    return ""


def source_calls() -> Iterator[tuple[str, ast.Call]]:
    """Every call in the project's sources, with where it is."""
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node


def test_every_torch_load_asks_for_weights_only() -> None:
    loads, unsafe = [], []
    for where, call in source_calls():
        if _name(call.func) in ("torch.load", "th.load"):
            loads.append(where)
            flag = next((k.value for k in call.keywords if k.arg == "weights_only"), None)
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                unsafe.append(where)
    assert loads, "the scan found no torch.load at all (export.py has one)"
    assert unsafe == [], f"torch.load without weights_only=True: {unsafe}"


def test_no_source_turns_strings_into_code() -> None:
    found = [f"{at} {_name(c.func)}" for at, c in source_calls() if _name(c.func) in RUNS_CODE]
    assert found == []


class _Trap:
    """Pickled, it calls ``Path.touch`` on ``marker`` when unpickled by anything that runs code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return Path.touch, (self.marker,)


def test_loading_weights_never_runs_code(tmp_path: Path) -> None:
    """SB3 checkpoints' weights and exported policies, each with an object that would run code:
    refused, and the code does not run. Without ``weights_only`` it would."""
    marker = tmp_path / "code-ran"
    weights = {"w": torch.zeros(2), "trap": _Trap(marker)}
    pth = io.BytesIO()
    torch.save(weights, pth)
    checkpoint = tmp_path / "step_000000001.zip"
    with zipfile.ZipFile(checkpoint, "w") as archive:
        archive.writestr("policy.pth", pth.getvalue())
    exported = tmp_path / "policy.pt"
    torch.save({"format": FORMAT, "policy": weights, "value": None}, exported)

    with pytest.raises(pickle.UnpicklingError):
        load_from_zip_file(checkpoint, device="cpu")
    with pytest.raises(pickle.UnpicklingError):
        ExportedPolicy.load(exported)
    assert not marker.exists()

    torch.load(exported, weights_only=False)  # the trap is real
    assert marker.exists()


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("file", "!!python/object/apply:os.system ['touch {marker}']"),
        ("override", "!!python/object/apply:os.system ['touch {marker}']"),
        ("override", "__import__('os').system('touch {marker}')"),
        ("robots", "[__import__('os').system('touch {marker}')]"),
    ],
)
def test_config_values_are_never_code(tmp_path: Path, where: str, value: str) -> None:
    """YAML's Python tags and Python expressions, in a config file or an override: a config
    error (exit 2), nothing run, no run directory."""
    marker, runs = tmp_path / "code-ran", tmp_path / "runs"
    value = value.format(marker=marker)
    config = ROOT / "configs" / "quickstart.yaml"
    args = [f"runs_dir={runs}", "total_timesteps=1"]
    if where == "file":
        config = tmp_path / "config.yaml"
        config.write_text(f"name: {value}\n")
    else:
        args.append(f"name={value}" if where == "override" else f"env.robots={value}")

    result = run_cli("train", str(config), *args)

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("config error:"), result.stderr
    assert not marker.exists()
    assert not runs.exists() or not any(runs.iterdir())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listeners_of(pid: int) -> list[Listener]:
    return listening([pid, *descendants(pid)])


@pytest.mark.slow
def test_tensorboard_as_the_cli_prints_it_listens_on_loopback_only(tmp_path: Path) -> None:
    args = [a for a in TINY if not a.startswith(("total_timesteps", "eval.freq"))]
    trained = run_cli(
        "train", "configs/quickstart.yaml", *args, "total_timesteps=128", f"runs_dir={tmp_path}"
    )
    assert trained.returncode == 0, trained.stderr
    watch = [line for line in trained.stdout.splitlines() if line.startswith("watch: ")]
    assert len(watch) == 1, trained.stdout
    command = shlex.split(watch[0].removeprefix("watch: "))
    assert command[0] == "tensorboard" and Path(command[2]).is_dir(), command
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", *command[1:], "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, sockets = time.monotonic() + 120, []
        while time.monotonic() < deadline and not any(s.port == port for s in sockets):
            assert server.poll() is None, "tensorboard exited"
            time.sleep(0.5)
            sockets = _listeners_of(server.pid)
        assert any(s.port == port for s in sockets), "tensorboard never listened"
        assert [s for s in sockets if not s.loopback] == []
    finally:
        server.terminate()
        server.wait(timeout=30)


def _is_dashboard(command: str) -> bool:
    """Whether a process is Ray's dashboard head or its per-node dashboard agent."""
    program = command.split()[:2]
    scripts = ("dashboard/dashboard.py", "dashboard/agent.py")
    return command.startswith("ray::Dashboard") or any(p.endswith(scripts) for p in program)


@pytest.mark.slow
def test_embedded_ray_serves_no_dashboard() -> None:
    """The Ray a run starts for itself: no dashboard on its port (8265), and whatever Ray's
    dashboard processes listen on (none, in Ray 2.60's minimal mode) on loopback only."""
    import ray

    from deepwe_rl.agents.ray_cluster import ray_session
    from deepwe_rl.config import RaySection

    assert not ray.is_initialized()
    with ray_session(RaySection(), 1):
        ray.get(ray.remote(lambda: 0).remote())  # a worker ran a task: the node is up
        sockets = _listeners_of(os.getpid())
    assert sockets, "found none of the embedded Ray's sockets"
    assert [s for s in sockets if s.port == 8265] == []
    dashboard = [s for s in sockets if _is_dashboard(s.command)]
    assert [s for s in dashboard if not s.loopback] == [], dashboard
