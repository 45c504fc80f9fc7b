"""Shared fixtures: a private URDF cache per test session, so tests never touch ~/.cache, and
one torch thread for the network tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
import torch

# Set before deepwe_rl.envs generates any URDF.
os.environ.setdefault("DEEPWE_RL_CACHE", tempfile.mkdtemp(prefix="deepwe_rl_test_cache_"))


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Small networks run fastest (and steadiest on a shared machine) on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
