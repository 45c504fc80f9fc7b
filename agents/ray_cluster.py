"""Ray for a run: start it embedded or join a cluster, check that the run fits, and say where
its rollouts run.

Both backends use Ray the same way: RLlib's env runners and the Ray VecEnv's env actors each take
one CPU, and the driver (the learner) counts one more. ``ray.address`` unset starts Ray in this
process with exactly that many CPUs; set, it joins the cluster there, and a cluster too small for
the run stops it with one line before anything is written, instead of leaving actors pending.

Ray itself is imported only inside the functions that need it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from deepwe_rl.agents import ray_logging
from deepwe_rl.config import ConfigError, RaySection, RunConfig

logger = logging.getLogger(__name__)

OBJECT_STORE_BYTES = 512 * 2**20
"""Object store of an embedded Ray: rollouts and weights of these networks are small."""

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for the cluster's address to answer before giving up with an error.
``ray.init`` itself retries an address that does not answer for minutes."""


def uses_ray(cfg: RunConfig) -> bool:
    """Whether the run needs Ray: the RLlib backend, or SB3 with ``env.vec: ray``."""
    return cfg.backend == "rllib" or cfg.env.vec == "ray"


def env_actors(n_envs: int, envs_per_actor: int) -> int:
    """Actors that hold ``n_envs`` envs, ``envs_per_actor`` each (the last may hold fewer)."""
    return math.ceil(n_envs / envs_per_actor)


def rollout_workers(cfg: RunConfig) -> tuple[int, str]:
    """The Ray actors that step the run's envs (one CPU each), and what they are called."""
    if cfg.backend == "rllib":
        count, kind = cfg.ray.num_env_runners, "env runner"
    elif cfg.env.vec == "ray":
        count, kind = env_actors(cfg.env.n_envs, cfg.ray.envs_per_runner), "env actor"
    else:
        count, kind = 0, "env actor"
    return count, f"{count} {kind}{'' if count == 1 else 's'}"


def cpus_needed(cfg: RunConfig) -> int:
    """CPUs the run asks of Ray: one per env runner or env actor, plus one for the driver."""
    return rollout_workers(cfg)[0] + 1


def _too_small(cfg: RunConfig, have: str, fix: str) -> ConfigError:
    fewer = "ray.num_env_runners" if cfg.backend == "rllib" else "env.n_envs"
    return ConfigError(
        f"config error: ray: the run needs {cpus_needed(cfg)} CPUs ({rollout_workers(cfg)[1]} "
        f"+ 1 for the driver) but {have}; {fix} or lower {fewer}"
    )


def check_config(cfg: RunConfig) -> None:
    """What can be checked without Ray: an embedded Ray given fewer CPUs than the run needs."""
    cpus = cfg.ray.num_cpus
    if uses_ray(cfg) and cfg.ray.address is None and cpus is not None and cpus < cpus_needed(cfg):
        raise _too_small(cfg, f"ray.num_cpus is {cpus}", "raise ray.num_cpus")


def check_cluster(cfg: RunConfig) -> None:
    """Compare the CPUs the run needs with the connected cluster's: one line if it cannot fit.
    A cluster that has them but is busy only gets a warning: its runs wait for free CPUs."""
    import ray

    total = ray.cluster_resources().get("CPU", 0.0)
    if total < cpus_needed(cfg):
        where = (
            "the embedded Ray"
            if cfg.ray.address is None
            else "the cluster 'auto' found"
            if cfg.ray.address == "auto"
            else f"the cluster at {cfg.ray.address}"
        )
        raise _too_small(cfg, f"{where} has {total:g}", "add nodes")
    free = ray.available_resources().get("CPU", 0.0)
    workers, named = rollout_workers(cfg)
    if free < workers:
        logger.warning(
            "only %g of the cluster's %g CPUs are free; the %s wait for the rest",
            free,
            total,
            named,
        )


def _resolve(address: str) -> str:
    """``host:port`` that ``ray.init(address)`` will dial: "auto" read from RAY_ADDRESS or the
    last ``ray start`` on this machine, and a loopback host replaced by this machine's address,
    as Ray does."""
    from ray._private.services import canonicalize_bootstrap_address_or_die

    try:
        return canonicalize_bootstrap_address_or_die(address)
    except (ConnectionError, ValueError) as err:
        raise ConfigError(f"config error: ray.address: {address!r}: {err}") from None


def _probe(address: str, resolved: str) -> None:
    """Fail fast when nothing answers at the cluster's address."""
    host, _, port = resolved.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError) as err:
        shown = address if address == resolved else f"{address} ({resolved})"
        raise ConfigError(
            f"config error: ray.address: no Ray cluster answers at {shown}: {err}"
        ) from None


def connect(section: RaySection, num_cpus: int) -> None:
    """Join the cluster at ``section.address``, or start Ray here with ``num_cpus`` CPUs and
    no dashboard. An embedded Ray never joins another Ray found on this machine. Ray's own
    logging reaches the console as ``ray_logging`` says."""
    import ray

    logs = ray_logging.init_options()
    ray_logging.drop_worker_died_reports()
    if section.address is None:
        ray.init(
            address="local",
            include_dashboard=False,
            num_cpus=num_cpus,
            object_store_memory=OBJECT_STORE_BYTES,
            **logs,
        )
        return
    resolved = _resolve(section.address)
    _probe(section.address, resolved)
    try:
        ray.init(address=section.address, **logs)
    except (ConnectionError, RuntimeError, ray.exceptions.RayError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        hint = (
            ""
            if os.environ.get("RAY_AUTH_MODE", "").lower() == "token"
            else " (a cluster with token authentication needs RAY_AUTH_MODE=token and its "
            "token here: see docs/cluster.md)"
        )
        raise ConfigError(
            f"config error: ray.address: cannot join the Ray cluster at {section.address}: "
            f"{first}{hint}"
        ) from None


@contextmanager
def ray_session(section: RaySection, default_cpus: int | None = None) -> Iterator[None]:
    """Ray for the block: connect to ``section.address``, or start Ray embedded here with
    ``section.num_cpus`` CPUs (default ``default_cpus``, else one per env runner plus one for
    the driver). Shuts down on exit what it started; a Ray that is already initialised is used
    as it is."""
    import ray

    if ray.is_initialized():
        yield
        return
    connect(section, section.num_cpus or default_cpus or section.num_env_runners + 1)
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def run_session(cfg: RunConfig) -> Iterator[None]:
    """``ray_session`` sized for the run, and the check that the cluster can fit it."""
    with ray_session(cfg.ray, cpus_needed(cfg)):
        check_cluster(cfg)
        yield


@dataclass(frozen=True)
class Placement:
    """Where one env runner or env actor runs."""

    worker: str
    node_id: str
    ip: str
    pid: int


def here(worker: str) -> Placement:
    """The placement of the calling Ray worker (call it inside an actor)."""
    import ray

    return Placement(
        worker, ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address(), os.getpid()
    )


def placement_text(placements: list[Placement]) -> str:
    """A markdown table of where rollouts run, for TensorBoard's text tab and the log."""
    rows = [f"| {p.worker} | {p.ip} | {p.node_id} | {p.pid} |" for p in placements]
    return "\n".join(["| worker | node ip | node id | pid |", "|---|---|---|---|", *rows])


def placement_summary(placements: list[Placement]) -> str:
    """One line: how many workers run on each node."""
    nodes = Counter(f"{p.ip} (node {p.node_id[:8]})" for p in placements)
    return ", ".join(f"{count} on {node}" for node, count in nodes.items())
