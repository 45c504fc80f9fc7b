"""A deterministic env-runner kill for RLlib runs, in this process or in the CLI.

``kill_an_env_runner_after_first_checkpoint`` patches a run started in this process (the
cluster tests). ``python -m tests.ray_faults RUNS_DIR ARGS...`` runs ``deepwe-rl ARGS...`` as
the CLI does, with the same patch for runs written into ``RUNS_DIR`` (the console tests).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ray.rllib.algorithms.algorithm import Algorithm

from deepwe_rl.agents.rllib import checkpoints, loop
from deepwe_rl.agents.rllib.algorithm import RunPPOConfig, build_config

KILLED = "killed.pid"
"""Written next to the run directory by the kill hook: the killed process's pid, or why none
was killed."""

RESTART_WAIT_S = 300.0
"""How long the RLlib run waits for Ray to restart the killed env runner."""


def assert_killed(runs: Path, what: str) -> None:
    """Fail, saying why, unless the kill hook of the run in ``runs`` killed a process."""
    marker = runs / KILLED
    assert marker.is_file(), (
        f"no {what} was killed: the run saved no periodic checkpoint, or the hook never ran"
    )
    assert marker.read_text().isdigit(), f"no {what} was killed: {marker.read_text()}"


def kill_an_env_runner_after_first_checkpoint(patch: pytest.MonkeyPatch, runs: Path) -> None:
    """Make the RLlib run in ``runs`` lose an env runner just after its first checkpoint, and
    wait for Ray to restart it.

    - The kill: ``build_config`` gets an ``on_episode_step`` callback, with which the first
      remote env runner to step once the run has a checkpoint writes its pid to
      ``runs/killed.pid`` and kills itself (SIGKILL) in the middle of its ``sample`` call. That
      call fails for certain, and RLlib takes the runner out. (A runner killed between calls
      may be restarted before the driver calls it again, and then no call fails.) The marker
      is created exclusively, so the other runner and the restarted one go on sampling.
    - The wait: at the first checkpoint after the kill, the driver waits until every env runner
      answers a call again (``RESTART_WAIT_S`` at most), that is until Ray has restarted the
      killed one and it has built its envs. RLlib's next iteration then brings it back and
      counts the restart; without the wait, a run this short can end before the new process
      is up.
    """
    marker = str(runs / KILLED)

    def kill_once(*, env_runner: Any, **kwargs: Any) -> None:
        if (
            env_runner.worker_index == 0
            or os.path.exists(marker)
            or not any(runs.glob("*/checkpoints/step_*"))
        ):
            return
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)

    def build(*args: Any) -> RunPPOConfig:
        return build_config(*args).callbacks(on_episode_step=kill_once)

    save_step, waited = checkpoints.save_step, []

    def save_then_wait(algo: Algorithm, *args: Any) -> Path:
        path = save_step(algo, *args)
        if not waited and os.path.exists(marker):
            waited.append(True)
            group, deadline = algo.env_runner_group, time.monotonic() + RESTART_WAIT_S
            while (
                len(
                    group.foreach_env_runner(
                        lambda runner: runner.worker_index,
                        local_env_runner=False,
                        healthy_only=False,
                        timeout_seconds=30,
                    )
                )
                < group.num_remote_env_runners()
            ):
                assert time.monotonic() < deadline, (
                    f"Ray did not restart the killed env runner within {RESTART_WAIT_S:.0f} s"
                )
                time.sleep(1)
        return path

    patch.setattr(loop, "build_config", build)
    patch.setattr(checkpoints, "save_step", save_then_wait)


def main() -> None:
    """``deepwe-rl sys.argv[2:]``, its RLlib run in ``sys.argv[1]`` losing an env runner."""
    runs, args = Path(sys.argv[1]).resolve(), sys.argv[2:]
    from deepwe_rl import cli

    with pytest.MonkeyPatch.context() as patch:
        kill_an_env_runner_after_first_checkpoint(patch, runs)
        sys.argv = ["deepwe-rl", *args]
        cli.main()


if __name__ == "__main__":
    main()
