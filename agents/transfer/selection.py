"""Which robots ``deepwe-rl transfer`` evaluates and which it fine-tunes, checked before any
work."""

from __future__ import annotations

from deepwe_rl.agents.env_factory import why_unable
from deepwe_rl.agents.robots import parse_robot_options, resolve_robots, split_members
from deepwe_rl.config import ConfigError, EnvSection
from deepwe_rl.envs.robots.catalog import held_out_robots


def evaluated_robots(env: EnvSection, splits: list[str], robots: list[str]) -> list[str]:
    """The robots to evaluate, each once: the members of ``splits`` that can do the run's task
    (proc:2:100 cannot push), then ``robots`` (names, ``urdf:`` arms or splits, comma-separated
    or repeated), each evaluated or refused. With neither, the run's training robots and every
    held-out robot that can do the task. Raises ConfigError (ValueError for an unknown split)
    for a name that does not resolve, or a named robot that cannot do the task."""
    members = split_members(splits)
    named = [_able(env, r) for r in parse_robot_options(robots)] if robots else []
    names = [r for r in members if why_unable(env, r) is None] + named
    if not names:
        held_out = [r for r in held_out_robots() if why_unable(env, r) is None]
        names = resolve_robots(env.robots) + held_out
    return list(dict.fromkeys(names))


def _able(env: EnvSection, robot: str) -> str:
    """``robot``, once its env builds for the run's task; ConfigError saying why it does not
    (an arm that cannot reach the table top cannot push)."""
    if why := why_unable(env, robot):
        raise ConfigError(why)
    return robot


def finetuned_robots(finetune_robots: list[str], evaluated: list[str]) -> list[str] | None:
    """The robots ``--finetune-robots`` names (None when it names none: every held-out robot is
    fine-tuned); ConfigError for one that is not among ``evaluated``."""
    chosen = parse_robot_options(finetune_robots) if finetune_robots else []
    if missing := [r for r in chosen if r not in evaluated]:
        raise ConfigError(f"--finetune-robots: {', '.join(missing)} not among the evaluated robots")
    return chosen or None
