"""How much of Ray's own logging reaches the console: quiet by default, Ray's own settings with
``--verbose`` (``set_verbose``).

Quiet, a run's console holds deepwe_rl's lines (results, and faults such as a restarted env
runner, which ``rllib.faults.RunnerWatch`` and ``sb3.ray_vec_env.RayVecEnv`` report in lines
of their own) and Ray's errors:

- Ray's Python logger in this process at ERROR (``ray.init(logging_level=...)``): no note that
  token authentication is on.
- RLlib's logger at CRITICAL (its ``log_level``, set before the algorithm is built): no note
  that PPO runs on the new API stack, and none of the ERROR lines with which RLlib reports the
  env runners its fault tolerance takes out and restarts.
- No worker output forwarded to this process (``ray.init(log_to_driver=False)``): what env
  runners and env actors print or log, behind colour-coded prefixes, stays in Ray's session
  log files (``/tmp/ray/session_latest/logs`` for an embedded Ray).
- Not the raylet's report, behind a ``(raylet)`` prefix, that a worker died
  (``drop_worker_died_reports``).
- Not the one line Ray's C++ core writes to stderr when RLlib creates its env runners:
  ``core_worker.cc``'s note that an actor with restarts has constructor arguments in the object
  store (RLlib puts the config there itself). ``quiet_rllib_build`` drops that line only; Ray's
  one setting that would hide it, ``RAY_BACKEND_LOG_LEVEL``, announces itself with a line of
  its own and hides every other C++ error too.

Whatever the setting, every process that imports ``rllib.module`` drops one false warning
(``drop_rl_module_config_warning``), and RLlib's system monitor, which only warns that gputil is
missing, is off (``rllib.algorithm.build_config``).

Ray itself is not imported here.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ACTOR_ARGUMENTS_NOTE = (b"core_worker.cc", b"has constructor arguments in the object store")
"""Fragments of the C++ line that RLlib's env runners, created with restarts and their config
in the object store, make Ray write to stderr."""

RL_MODULE_CONFIG_WARNING = "`RLModule(config=[RLModuleConfig object])` has been deprecated"
"""Ray 2.60's ``RLModule.__init__`` builds the deprecated ``RLModuleConfig`` itself, for every
module however it is built (ray-project/ray#51630), and that class warns once per process.
Building through ``RLModuleSpec`` with observation and action spaces and ``model_config``, as
the current API asks, is what this backend does; the warning is false."""

_verbose = False


def set_verbose(verbose: bool) -> None:
    """Show Ray's own logging (True) or keep it off the console (False, the default) for the
    Ray sessions and RLlib algorithms this process starts from now on."""
    global _verbose
    _verbose = verbose


def init_options() -> dict[str, Any]:
    """``ray.init`` keyword arguments: the ``ray`` logger's level, and whether workers' output
    is forwarded to this process."""
    if _verbose:
        return {"logging_level": logging.INFO, "log_to_driver": True}
    return {"logging_level": logging.ERROR, "log_to_driver": False}


def rllib_log_level() -> str:
    """RLlib's ``log_level``: its default, WARN, or CRITICAL."""
    return "WARN" if _verbose else "CRITICAL"


WORKER_DIED = "A worker died or was killed"
"""How the raylet's report of a dead worker begins."""


def drop_worker_died_reports() -> None:
    """Quiet, leave out the raylet's reports that a worker of this job died.

    Ray's driver prints the errors the raylet reports for its job to stdout, prefixed
    ``(raylet)``, whatever ``log_to_driver`` says, and has no setting for it. This wraps the
    function that prints them, ``ray._private.worker.print_to_stdstream`` (Ray 2.60), once per
    process; where Ray has no such function, nothing changes.
    """
    from ray._private import worker

    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or getattr(printer, "drops_worker_died", False):
        return

    def print_to_stdstream(data: dict[str, Any], ignore_prefix: bool) -> None:
        if not _verbose and data.get("pid") == "raylet":
            lines = [line for line in data.get("lines", []) if WORKER_DIED not in line]
            if not lines:
                return
            data = {**data, "lines": lines}
        printer(data, ignore_prefix)

    print_to_stdstream.drops_worker_died = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = print_to_stdstream


@contextmanager
def quiet_rllib_build() -> Iterator[None]:
    """Around building an RLlib algorithm: RLlib's logger at ``rllib_log_level`` already while
    the config is validated (RLlib sets it only once the algorithm is set up), and, quiet,
    ``ACTOR_ARGUMENTS_NOTE`` left out of stderr (``stderr_without``)."""
    logging.getLogger("ray.rllib").setLevel(rllib_log_level())
    if _verbose:
        yield
        return
    with stderr_without(ACTOR_ARGUMENTS_NOTE):
        yield


@contextmanager
def stderr_without(fragments: tuple[bytes, ...]) -> Iterator[None]:
    """Everything written to stderr during the block, at the file-descriptor level where Ray's
    C++ core writes, but the lines that contain every one of ``fragments``; written out when
    the block ends, however it ends."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(
                line for line in captured if not all(part in line for part in fragments)
            )
            while kept:
                kept = kept[os.write(2, kept) :]


class _Drop(logging.Filter):
    """Drops the records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def drop_rl_module_config_warning() -> None:
    """Drop ``RL_MODULE_CONFIG_WARNING`` in this process (once: calling again adds nothing)."""
    logger = logging.getLogger("ray._common.deprecation")
    if not any(isinstance(f, _Drop) for f in logger.filters):
        logger.addFilter(_Drop(RL_MODULE_CONFIG_WARNING))
