"""Silencing what PyBullet's C code prints, which Python's own redirection cannot reach."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def c_output_silenced(fd: int) -> Iterator[None]:
    """Send file descriptor ``fd`` (1: stdout, 2: stderr) to the null device for the block."""
    (sys.stdout if fd == 1 else sys.stderr).flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
