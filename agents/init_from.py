"""Starting a run from another run's trained weights (``init_from``): the compatibility check
made before anything is written. Each backend loads the weights itself."""

from __future__ import annotations

from deepwe_rl.agents.run_dir import RunDir, open_run_dir
from deepwe_rl.config import ConfigError, RunConfig

_MUST_MATCH = ("backend", "algo.name", "network", "env.max_joints", "env.camera", "env.control")


def _get(cfg: RunConfig, dotted: str) -> object:
    node: object = cfg
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def source_run(cfg: RunConfig) -> RunDir | None:
    """The run named by ``cfg.init_from``, checked to hold weights this config can load, and
    the demonstrations ``demonstrations.rehearsal_steps`` asks for."""
    rehearsal = cfg.demonstrations.rehearsal_steps
    if cfg.init_from is None:
        if rehearsal:
            raise ConfigError(
                "config error: demonstrations.rehearsal_steps rehearses the init_from run's "
                "demonstrations, and init_from is not set"
            )
        return None
    try:
        source = open_run_dir(cfg.init_from)
    except ConfigError as err:
        raise ConfigError(f"config error: init_from: {err}") from None
    other = source.config()
    for key in _MUST_MATCH:
        if _get(other, key) != _get(cfg, key):
            raise ConfigError(
                f"config error: init_from: {key} differs from the run in {source.path} "
                f"({_get(other, key)!r} there, {_get(cfg, key)!r} here)"
            )
    if rehearsal and not source.demonstrations.is_file():
        raise ConfigError(
            f"config error: demonstrations.rehearsal_steps: {source.path} has no "
            f"{source.demonstrations.name} (it was not trained with demonstrations)"
        )
    return source
