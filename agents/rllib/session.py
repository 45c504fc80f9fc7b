"""Starting and stopping Ray around one run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ray

from deepwe_rl.config import RaySection

OBJECT_STORE_BYTES = 512 * 2**20
"""Object store of an embedded Ray: rollouts and weights of these networks are small."""


@contextmanager
def ray_session(section: RaySection) -> Iterator[None]:
    """Ray for the block: connect to ``section.address``, or start Ray embedded here (no
    dashboard; ``section.num_cpus`` CPUs, default one per env runner plus one for the driver).
    Shuts down on exit what it started; a Ray that is already initialised is used as it is."""
    if ray.is_initialized():
        yield
        return
    if section.address is not None:
        ray.init(address=section.address)
    else:
        ray.init(
            include_dashboard=False,
            num_cpus=section.num_cpus or section.num_env_runners + 1,
            object_store_memory=OBJECT_STORE_BYTES,
        )
    try:
        yield
    finally:
        ray.shutdown()
