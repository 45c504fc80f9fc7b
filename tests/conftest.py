"""Shared fixtures: a private URDF cache per test session, so tests never touch ~/.cache, and
one torch thread for the network tests."""

from __future__ import annotations

import os
import re
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


RAY_MODULES = {"test_cluster", "test_cli_rllib", "test_ray_logging", "test_rllib"}
"""Modules whose every test starts Ray (or a Ray cluster)."""


def starts_ray(item: pytest.Item) -> bool:
    """Whether a test starts Ray: every test of ``RAY_MODULES``, and elsewhere each test whose
    name or parameters have the word ``ray`` or ``rllib``."""
    words = set(re.split(r"[^a-z0-9]+", item.name.lower()))
    return item.module.__name__.rsplit(".", 1)[-1] in RAY_MODULES or bool(words & {"ray", "rllib"})


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's ``--dist loadgroup`` (what ``make test`` runs): the tests that
    start Ray run one after another on one worker, as two Ray instances starting at once on a
    small machine starve each other; every other module's tests stay together on one worker, so
    its module-scoped runs are trained once."""
    for item in items:
        group = "ray" if starts_ray(item) else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))
