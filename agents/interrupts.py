"""Stopping a run cleanly: Ctrl-C and SIGTERM both end training through KeyboardInterrupt,
after which the backend saves a checkpoint and raises TrainingInterrupted."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType


class TrainingInterrupted(Exception):
    """Training stopped on request; a checkpoint at ``step`` was saved to ``checkpoint``."""

    def __init__(self, step: int, checkpoint: Path) -> None:
        super().__init__(f"interrupted at step {step}; checkpoint saved to {checkpoint}")
        self.step = step
        self.checkpoint = checkpoint


class TrainingFailed(RuntimeError):
    """Training cannot go on (for example, env workers kept dying); the run keeps its last
    periodic checkpoint, from which ``resume`` continues."""


INTERRUPTS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a run: Ctrl-C and SIGTERM."""


@contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Within the block, Ctrl-C and SIGTERM raise KeyboardInterrupt. Both handlers are set
    here, not inherited: a process started in the background by a non-interactive shell (a CI
    job, ``nohup cmd &``) inherits SIGINT ignored, and would not stop on it otherwise."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def interrupt_at_safe_points() -> Iterator[Callable[[], None]]:
    """Within the block, Ctrl-C and SIGTERM only set a flag; the check it yields raises
    KeyboardInterrupt once the flag is set. Training calls the check between steps, so the
    interrupt never lands inside a library's critical section (an exception raised while a
    writer thread's lock is held leaves that lock taken and the final save waiting on it)."""
    requested: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        requested.append(signum)

    def check() -> None:
        if requested:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in INTERRUPTS}
    try:
        yield check
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
