"""The run directory: ``runs/<name>-<time>/`` with its config, TensorBoard logs, checkpoints,
final model and evaluations, and the atomic writes that keep it loadable at every moment."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deepwe_rl.config import ConfigError, RunConfig, dump_config, load_config

CONFIG = "config.yaml"
_CHECKPOINT = re.compile(r"^step_(\d+)(\.zip)?$")
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)$")
"""What ``atomic_save`` leaves when a process dies mid-save: ``.<name>.tmp-<pid>`` (being
written) and ``.<name>.old-<pid>`` (a folder being replaced)."""
SB3_MODEL = "model.zip"
"""A finished SB3 run's model (an SB3 zip; its checkpoints are ``checkpoints/step_<n>.zip``)."""
RLLIB_MODEL = "rllib_checkpoint"
"""A finished RLlib run's algorithm checkpoint (a folder; so are its periodic checkpoints)."""
TRAINING_OUTPUTS = (SB3_MODEL, RLLIB_MODEL)
"""The final models: files and folders in the run directory that only training's end writes."""
DEMONSTRATIONS = "demonstrations.npz"
"""Everything behaviour cloning fitted the policy on, written when its last round ends (sb3)."""


@dataclass(frozen=True)
class RunDir:
    """Paths of one run."""

    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def tb(self) -> Path:
        return self.path / "tb"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def eval(self) -> Path:
        return self.path / "eval"

    @property
    def demonstrations(self) -> Path:
        return self.path / DEMONSTRATIONS

    def config(self) -> RunConfig:
        return load_config(self.config_path)

    def checkpoint_path(self, step: int, suffix: str = "") -> Path:
        return self.checkpoints / f"step_{step:09d}{suffix}"

    def _checkpoint_entries(self) -> list[tuple[int, Path]]:
        """Complete checkpoints (files or folders) with their step counts, oldest first."""
        if not self.checkpoints.is_dir():
            return []
        return sorted(
            (int(m.group(1)), entry)
            for entry in self.checkpoints.glob("step_*")
            if (m := _CHECKPOINT.match(entry.name))
        )

    @property
    def final_model(self) -> Path | None:
        """The final model training wrote here (``model.zip`` or ``rllib_checkpoint/``)."""
        found = [self.path / name for name in TRAINING_OUTPUTS if (self.path / name).exists()]
        return found[0] if found else None

    @property
    def finished(self) -> bool:
        """Whether training wrote its final model here."""
        return self.final_model is not None

    def last_eval(self) -> Path | None:
        """The periodic evaluation JSON of the highest step (``eval/eval_<step>.json``)."""
        found = sorted(self.eval.glob("eval_*.json")) if self.eval.is_dir() else []
        return found[-1] if found else None

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        """The newest complete checkpoint, by step count."""
        entries = self._checkpoint_entries()
        return entries[-1] if entries else None

    def newest_model(self) -> Path | None:
        """The final model, or else the newest periodic checkpoint; None before the first."""
        latest = self.latest_checkpoint()
        return self.final_model or (latest[1] if latest else None)

    def prune_checkpoints(self, keep: int) -> None:
        for _, entry in self._checkpoint_entries()[:-keep]:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def recover_interrupted_saves(self) -> list[str]:
        """Tidy what saves cut short by a killed training process left behind, in
        ``checkpoints/`` and around the final model: a folder caught between its two renames is
        put back (the new one if it was complete, else the old one), and every other temporary
        is removed. Call it only when no other process trains this run. Returns one line per
        action taken."""
        done: list[str] = []
        spots = [(self.checkpoints, lambda name: name.startswith("step_"))]
        spots.append((self.path, lambda name: name in (*TRAINING_OUTPUTS, DEMONSTRATIONS)))
        for folder, ours in spots:
            if folder.is_dir():
                done += _recover(folder, ours)
        return done


def create_run_dir(cfg: RunConfig) -> RunDir:
    """Make ``<runs_dir>/<name>-<time>/`` (``~`` expanded) holding the resolved config; a name
    clash gets a numeric suffix. Everything is written into a hidden temporary folder first,
    then renamed."""
    root = Path(cfg.runs_dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tmp = Path(tempfile.mkdtemp(prefix=f".{cfg.name}-", dir=root))
    (tmp / CONFIG).write_text(dump_config(cfg))
    for sub in ("tb", "checkpoints", "eval"):
        (tmp / sub).mkdir()
    for attempt in range(1000):
        target = root / (f"{cfg.name}-{stamp}" + (f"-{attempt}" if attempt else ""))
        try:
            tmp.rename(target)  # fails if target exists (non-empty), so no run is overwritten
        except OSError:
            continue
        return RunDir(target)
    raise RuntimeError(f"could not create a run directory under {root}")


def open_run_dir(path: Path | str) -> RunDir:
    """An existing run (``~`` expanded), with a clear error when the folder is not one."""
    run = RunDir(Path(path).expanduser())
    if not run.path.is_dir():
        raise ConfigError(f"run directory not found: {run.path}")
    if not run.config_path.is_file():
        raise ConfigError(f"not a run directory (no {CONFIG}): {run.path}")
    return run


def atomic_save(target: Path, write: Callable[[Path], None]) -> Path:
    """Write through ``write(tmp_path)`` next to ``target``, then rename over it, so a crash
    never leaves a partial file (or folder) under the final name. A ``write`` that raises
    (Ctrl-C included) leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _leftover(target, "tmp", os.getpid())
    _remove(tmp)
    try:
        write(tmp)
    except BaseException:
        _remove(tmp)
        raise
    if target.is_dir():
        old = _leftover(target, "old", os.getpid())
        target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old)
    else:
        os.replace(tmp, target)
    return target


def _leftover(target: Path, kind: str, pid: int) -> Path:
    """The temporary name ``atomic_save`` gives ``target`` while writing (``tmp``) or while
    replacing a folder (``old``)."""
    return target.with_name(f".{target.name}.{kind}-{pid}")


def _recover(folder: Path, ours: Callable[[str], bool]) -> list[str]:
    """``recover_interrupted_saves`` for one folder, for the targets whose name ``ours``
    accepts. ``atomic_save`` renames the old folder aside only once the new one is written, so
    a ``.old-<pid>`` with no target means that ``.tmp-<pid>`` is complete."""
    found = [(m, entry) for entry in folder.iterdir() if (m := _LEFTOVER.match(entry.name))]
    done: list[str] = []
    for m, old in found:
        target = folder / m["name"]
        if m["kind"] != "old" or not ours(m["name"]) or target.exists():
            continue
        tmp = _leftover(target, "tmp", int(m["pid"]))
        (tmp if tmp.exists() else old).rename(target)
        done.append(f"restored {target} from an interrupted save")
    for m, entry in found:
        if ours(m["name"]) and (entry.exists() or entry.is_symlink()):
            _remove(entry)
            done.append(f"removed {entry}, left by an interrupted save")
    return done


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
