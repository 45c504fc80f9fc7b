"""What ``agents.ray_logging`` leaves out of the console, checked without starting Ray: the one
C++ line in what a process writes to stderr, and RLlib's false ``RLModuleConfig`` warning
when our module is built as RLlib's current API asks."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.util.debug import reset_log_once

from deepwe_rl.agents import ray_logging
from deepwe_rl.agents.env_factory import single_env
from deepwe_rl.agents.rllib.module import ActorCriticModule, module_config
from deepwe_rl.config import RunConfig

NOTE = (
    b"[2026-12-01 18:44:12,600 E 2029 2029] core_worker.cc:2465: Actor with class name: "
    b"'SingleAgentEnvRunner' and ID: 'f66d' has constructor arguments in the object store and "
    b"max_restarts > 0.\n"
)


def test_stderr_without_drops_that_line_only(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), ray_logging.stderr_without(ray_logging.ACTOR_ARGUMENTS_NOTE):
        os.write(2, b"before\n" + NOTE + b"core_worker.cc:10: another C++ error\n")
        raise RuntimeError("the block failed")  # what was written still comes out
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before\ncore_worker.cc:10: another C++ error\nafter\n"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def deprecations() -> Iterator[Records]:
    """The messages of Ray's deprecation logger that pass its filters, at WARNING whatever
    level an earlier ``ray.init`` left on the ``ray`` logger, with RLlib's once-per-process
    memory of the RLModuleConfig warning cleared."""
    logger, records = logging.getLogger("ray._common.deprecation"), Records()
    level = logger.level
    logger.setLevel(logging.WARNING)
    logger.addHandler(records)
    reset_log_once("RLModule(config=[RLModuleConfig object])")
    try:
        yield records
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)


def build_module() -> None:
    """``ActorCriticModule`` through ``RLModuleSpec.build``, as RLlib's learner and env runners
    build it."""
    cfg = RunConfig.model_validate(
        {"backend": "rllib", "network": {"hidden": 32, "desc_embed": 8, "hyper_hidden": 16}}
    )
    env = single_env(cfg.env, "proc:3:0")
    RLModuleSpec(
        module_class=ActorCriticModule,
        observation_space=env.observation_space,
        action_space=env.action_space,
        model_config=module_config(cfg),
    ).build()
    env.close()


def test_our_module_builds_without_the_rl_module_config_warning(deprecations: Records) -> None:
    build_module()
    assert not [m for m in deprecations.messages if "RLModuleConfig" in m]


def test_rllib_still_warns_without_the_filter(deprecations: Records) -> None:
    """Why the filter exists: with it off, RLlib warns for our module too. When this fails, Ray
    warns no more and ``drop_rl_module_config_warning`` can go."""
    logger = logging.getLogger("ray._common.deprecation")
    filters = list(logger.filters)
    for f in filters:
        logger.removeFilter(f)
    try:
        build_module()
    finally:
        for f in filters:
            logger.addFilter(f)
    assert [m for m in deprecations.messages if ray_logging.RL_MODULE_CONFIG_WARNING in m]
