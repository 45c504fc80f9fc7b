"""Telling bad input from internal failures, and keeping an internal failure's traceback out of
the console: it goes to ``RUN/error.log`` (or a temporary file when there is no run yet), and
the caller gets one line saying what failed and where the details are."""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deepwe_rl.agents.interrupts import TrainingFailed, TrainingInterrupted
from deepwe_rl.agents.run_dir import RunDir

ERROR_LOG = "error.log"


class RunFailed(TrainingFailed):
    """An unexpected error stopped a run; its traceback is in ``log`` and the run directory
    keeps its checkpoints, so ``deepwe-rl resume`` can continue once the cause is fixed."""

    def __init__(self, message: str, log: Path) -> None:
        super().__init__(message)
        self.log = log


def is_bad_input(err: BaseException) -> bool:
    """Whether ``err`` comes from deepwe_rl's input checks: its own error types, a missing
    file, or a plain ValueError. Libraries' subclasses of ValueError (pyarrow's ArrowInvalid,
    Ray's RayTaskError(ValueError)) are internal failures, not bad input."""
    from deepwe_rl.config import ConfigError
    from deepwe_rl.envs.robots.structure import RobotLoadError

    return isinstance(err, (ConfigError, RobotLoadError, FileNotFoundError)) or (
        type(err) is ValueError
    )


def summary(err: BaseException) -> str:
    """The error's type and the first line of its message."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def write_traceback(err: BaseException, what: str, log: Path | None = None) -> Path:
    """Append ``err``'s full traceback, under a header with the time and ``what`` failed, to
    ``log``, or to a new temporary file when ``log`` is None; the file written."""
    if log is None:
        handle, name = tempfile.mkstemp(prefix="deepwe-rl-error-", suffix=".log")
        os.close(handle)
        log = Path(name)
    header = f"=== {time.strftime('%Y-%m-%d %H:%M:%S')}: {what} failed ===\n"
    with log.open("a") as f:
        f.write(header + "".join(traceback.format_exception(err)) + "\n")
    return log


@contextmanager
def logged_to(run: RunDir, what: str) -> Iterator[None]:
    """Within the block, an error that is neither bad input nor an interrupt has its traceback
    appended to ``RUN/error.log`` and is raised again as RunFailed with one line naming
    ``what`` failed, why, and the log."""
    try:
        yield
    except (TrainingInterrupted, RunFailed):
        raise
    except Exception as err:
        if is_bad_input(err):
            raise
        log = write_traceback(err, what, run.path / ERROR_LOG)
        cause = str(err) if isinstance(err, TrainingFailed) else summary(err)
        raise RunFailed(f"{what} failed: {cause}; traceback in {log}", log) from err
