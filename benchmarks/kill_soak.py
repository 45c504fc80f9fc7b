"""Kill soak: a run with frequent checkpoints killed (SIGKILL) again and again, resumed after each.

One SB3 PPO run (joint-control reach, two robots, two envs, a small network) with a checkpoint
every ``--freq`` env steps is started with ``deepwe-rl train`` and then, ``--kills`` times, killed
and resumed with ``deepwe-rl resume``. Where each kill lands is drawn from a seeded generator:

- during a save (``--during-saves``, half by default): the process is killed as soon as a save's
  temporary (``checkpoints/.step_<n>.zip.tmp-<pid>``) appears, so in the middle of writing it;
- at a random moment: ``uniform(0, --max-wait)`` seconds after the process started (start-up
  included, so some kills land before training does).

After each kill the soak checks:

- corrupt checkpoints: every ``checkpoints/step_*.zip`` is loaded (SB3's ``load_from_zip_file``,
  policy weights and all); one that fails is corrupt;
- stale files: a save temporary (``.tmp-``/``.old-``) of a process other than the one just
  killed, that is one that a resume should have removed;
- steps lost: the env steps the killed process is known to have reached (the last step it
  logged to TensorBoard, which SB3 does at the end of every 32-step rollout, or the step of the
  save the kill cut short) minus the step the next process resumes from.

A failed resume is a resume that exits by itself before it is killed, or that does not start
from the newest checkpoint on disk. After the last kill, the run is resumed to the end (its
``total_timesteps`` lowered to two checkpoint intervals past its newest checkpoint), which must
exit 0 with a final model of that many steps.

    nice -n 19 python benchmarks/kill_soak.py [--kills 50] [--seed 0] [--freq 128]

Prints one line per kill, then the figures, and last a JSON object with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from stable_baselines3.common.save_util import load_from_zip_file
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

ROOT = Path(__file__).parent.parent
CLI = [sys.executable, "-m", "deepwe_rl.cli"]
START_TIMEOUT_S = 300.0
"""How long a process may take to reach the kill point (a save) before the soak gives up."""
TOTAL = 10_000_000
"""The run's ``total_timesteps`` while it is being killed: far more than it reaches."""
_LEFTOVER = re.compile(r"^\..+\.(tmp|old)-(\d+)$")
_SAVING = re.compile(r"^\.step_(\d+)\.zip\.tmp-\d+$")
_RESUMED = re.compile(r"resuming from .* \(step (\d+)\)|training from step (0)")


def overrides(freq: int, runs: Path) -> list[str]:
    """A small fast run: reach with two robots in two envs, rollouts of 32 steps."""
    return [
        f"total_timesteps={TOTAL}",
        "env.robots=[panda,proc:2:0]",
        "env.n_envs=2",
        "algo.n_steps=16",
        "algo.batch_size=32",
        "algo.n_epochs=1",
        "network.hidden=32",
        "eval.freq=0",
        f"checkpoint.freq={freq}",
        "checkpoint.keep=3",
        f"runs_dir={runs}",
    ]


def saving(path: Path) -> int:
    """The step of the checkpoint whose save left temporary ``path``; 0 for other files."""
    m = _SAVING.match(path.name)
    return int(m.group(1)) if m else 0


@dataclass
class Kill:
    """What one kill found."""

    index: int
    mode: str
    pid: int
    landed_in_save: bool
    newest_checkpoint: int
    reached: int
    """Env steps the killed process is known to have reached: the last step it logged to
    TensorBoard, or the step of the save it was cut in, whichever is higher."""
    corrupt: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    resumed_from: int | None = None
    """The step the next process started from, read from its console."""

    @property
    def steps_lost(self) -> int | None:
        if self.resumed_from is None:
            return None
        return max(0, self.reached - self.resumed_from)


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.runs = Path(args.runs_dir or tempfile.mkdtemp(prefix="kill-soak-"))
        self.runs.mkdir(parents=True, exist_ok=True)
        self.log = self.runs / "processes.log"
        self.kills: list[Kill] = []
        self.failed_resumes: list[str] = []

    # --- processes ------------------------------------------------------------------------

    def start(self, *args: str) -> tuple[subprocess.Popen[str], int]:
        """``deepwe-rl *args`` with its output appended to the log; the process and where its
        output starts in the log."""
        with self.log.open("a") as log:
            log.write(f"\n=== deepwe-rl {' '.join(args)}\n")
            log.flush()
            offset = log.tell()
            process = subprocess.Popen(
                [*CLI, *args], stdout=log, stderr=subprocess.STDOUT, text=True, cwd=ROOT
            )
        return process, offset

    def output_since(self, offset: int) -> str:
        with self.log.open() as f:
            f.seek(offset)
            return f.read()

    def find_run(self) -> Path | None:
        found = [p for p in self.runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return found[0] if found else None

    def wait_for_save(self, process: subprocess.Popen[str]) -> None:
        """Return as soon as ``process`` has a save's temporary on disk, or has exited."""
        marker = f".tmp-{process.pid}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while process.poll() is None:
            run = self.find_run()
            try:
                if run and any(n.endswith(marker) for n in os.listdir(run / "checkpoints")):
                    return
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no save within {START_TIMEOUT_S:.0f} s; see {self.log}")
            time.sleep(0.0005)

    def wait_for(self, process: subprocess.Popen[str], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)

    # --- checks ---------------------------------------------------------------------------

    @staticmethod
    def checkpoints(run: Path) -> list[tuple[int, Path]]:
        return sorted(
            (int(path.stem.removeprefix("step_")), path)
            for path in (run / "checkpoints").glob("step_*.zip")
        )

    @staticmethod
    def corrupt(run: Path) -> list[str]:
        bad = []
        for _, path in Soak.checkpoints(run):
            try:
                load_from_zip_file(path, device="cpu")
            except Exception as err:  # any failure to load is what is counted
                bad.append(f"{path.name}: {type(err).__name__}: {err}")
        return bad

    @staticmethod
    def leftovers(run: Path) -> list[tuple[Path, int]]:
        """Save temporaries in the run, with the pid of the process that wrote them."""
        return [
            (path, int(m.group(2))) for path in run.rglob(".*") if (m := _LEFTOVER.match(path.name))
        ]

    @staticmethod
    def logged_step(run: Path, pid: int) -> int | None:
        """The highest step process ``pid`` logged to TensorBoard (its own event file)."""
        step = None
        for events in (run / "tb").rglob(f"events.out.tfevents.*.{pid}.*"):
            try:
                for event in EventFileLoader(str(events)).Load():
                    if event.HasField("summary") and event.summary.value:
                        step = max(step or 0, event.step)
            except Exception:  # a record cut short by the kill ends the file
                continue
        return step

    # --- the soak -------------------------------------------------------------------------

    def run(self) -> dict[str, object]:
        a = self.args
        config = ["configs/quickstart.yaml", *overrides(a.freq, self.runs)]
        process, offset = self.start("train", *config)
        for index in range(a.kills):
            during_save = self.rng.random() < a.during_saves
            wait = self.rng.uniform(0, a.max_wait)
            if during_save:
                self.wait_for_save(process)
            else:
                self.wait_for(process, wait)
            if process.poll() is not None:
                self.failed_resumes.append(
                    f"before kill {index}: the process exited by itself with "
                    f"{process.returncode}; see {self.log}"
                )
            process.send_signal(signal.SIGKILL)
            process.wait()
            run = self.find_run()
            if run is None:  # killed before it made its run directory: train afresh
                print(f"kill {index:2d}: before the run directory existed", flush=True)
                process, offset = self.start("train", *config)
                continue
            recovered = self.note_start(offset)
            leftovers = self.leftovers(run)
            ckpts = self.checkpoints(run)
            kill = Kill(
                index=index,
                mode="save" if during_save else f"random {wait:4.1f}s",
                pid=process.pid,
                landed_in_save=any(pid == process.pid for _, pid in leftovers),
                newest_checkpoint=ckpts[-1][0] if ckpts else 0,
                reached=max(
                    [self.logged_step(run, process.pid) or 0]
                    + [saving(path) for path, pid in leftovers if pid == process.pid]
                ),
                corrupt=self.corrupt(run),
                # Another process's temporaries are stale once this one got past recovery.
                stale=[str(p) for p, pid in leftovers if pid != process.pid] if recovered else [],
            )
            self.kills.append(kill)
            if index == a.kills - 1:
                break
            process, offset = self.start("resume", str(run))
        return self.finish()

    def note_start(self, offset: int) -> bool:
        """Read where the process whose output starts at ``offset`` began (a resume's
        ``resuming from ... (step N)``) into the previous kill, and print that kill; whether
        the process got that far (past tidying what earlier kills left)."""
        found = _RESUMED.search(self.output_since(offset))
        if self.kills:
            kill = self.kills[-1]
            if found:
                kill.resumed_from = int(found.group(1) or found.group(2))
                if kill.resumed_from != kill.newest_checkpoint:
                    self.failed_resumes.append(
                        f"after kill {kill.index}: resumed from step {kill.resumed_from}, but "
                        f"the newest checkpoint was {kill.newest_checkpoint}"
                    )
            self.print_kill(kill)
        return found is not None

    def print_kill(self, kill: Kill) -> None:
        print(
            f"kill {kill.index:2d} ({kill.mode:>12}): cut a save {kill.landed_in_save!s:5}, "
            f"newest checkpoint {kill.newest_checkpoint:6d}, reached {kill.reached:6d}, "
            f"next resumed from {kill.resumed_from}, lost {kill.steps_lost}, "
            f"corrupt {len(kill.corrupt)}, stale {len(kill.stale)}",
            flush=True,
        )

    def finish(self) -> dict[str, object]:
        """After the last kill, resume the run to its end, its ``total_timesteps`` lowered to
        two checkpoint intervals past its newest checkpoint."""
        run = self.find_run()
        assert run is not None
        total = self.kills[-1].newest_checkpoint + 2 * self.args.freq
        config = run / "config.yaml"
        config.write_text(
            re.sub(r"(?m)^total_timesteps: \d+$", f"total_timesteps: {total}", config.read_text())
        )
        final, offset = self.start("resume", str(run))
        final.wait()
        self.note_start(offset)
        final_steps = None
        if final.returncode == 0 and (run / "model.zip").is_file():
            final_steps = load_from_zip_file(run / "model.zip", device="cpu")[0]["num_timesteps"]
        if final_steps != total:
            self.failed_resumes.append(
                f"final resume: exit {final.returncode}, {final_steps} steps, not {total}"
            )
        lost = [k.steps_lost for k in self.kills if k.steps_lost is not None]
        for problem in self.failed_resumes:
            print(f"failed resume: {problem}")
        for kill in self.kills:
            for line in kill.corrupt + kill.stale:
                print(f"kill {kill.index}: {line}")
        return {
            "kills": len(self.kills),
            "kills_aimed_at_saves": sum(k.mode == "save" for k in self.kills),
            "kills_that_cut_a_save": sum(k.landed_in_save for k in self.kills),
            "corrupt_checkpoints": sum(len(k.corrupt) for k in self.kills),
            "failed_resumes": len(self.failed_resumes),
            "stale_files": sum(len(k.stale) for k in self.kills) + len(self.leftovers(run)),
            "steps_lost_measured_kills": len(lost),
            "steps_lost_max": max(lost, default=0),
            "steps_lost_mean": round(sum(lost) / len(lost), 1) if lost else 0,
            "checkpoint_interval": self.args.freq,
            "final_model_steps": final_steps,
            "final_total_timesteps": total,
            "run": str(run),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--freq", type=int, default=128, help="env steps between checkpoints")
    parser.add_argument(
        "--during-saves", type=float, default=0.5, help="share of kills aimed at a save"
    )
    parser.add_argument(
        "--max-wait", type=float, default=15.0, help="seconds; random kills wait up to this"
    )
    parser.add_argument("--runs-dir", type=Path, default=None)
    args = parser.parse_args()
    start = time.monotonic()
    result = Soak(args).run()
    result["seconds"] = round(time.monotonic() - start)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
