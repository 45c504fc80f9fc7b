"""Robot lists in configs and on the command line: names or splits, checked before any run
directory exists. The one place robot lists are parsed."""

from __future__ import annotations

from pathlib import PurePath

from deepwe_rl.config import ConfigError
from deepwe_rl.envs.robots.catalog import SPLITS, resolve_robot, split


def resolve_robots(robots: list[str] | str, key: str = "env.robots") -> list[str]:
    """Expand a split name to its robots and check every robot name resolves.

    Raises ConfigError naming ``key`` for an empty list, an unknown split or robot, or a
    missing URDF file.
    """
    if isinstance(robots, str):
        if robots in SPLITS:
            names = list(SPLITS[robots])
        elif ":" in robots or robots.isidentifier():
            names = [robots]
        else:
            raise ConfigError(f"config error: {key}: unknown split '{robots}'")
    else:
        names = list(robots)
    if not names:
        raise ConfigError(f"config error: {key}: the robot list is empty")
    for name in names:
        try:
            resolve_robot(name)
        except (ValueError, FileNotFoundError) as err:
            raise ConfigError(f"config error: {key}: {err}") from None
    return names


def parse_robot_options(items: list[str], key: str = "--robots") -> list[str]:
    """Robots given as repeated options, each a robot name or split or several of them
    comma-separated: splits expanded and every name checked as ``resolve_robots`` does."""
    names: list[str] = []
    for item in items:
        for part in item.split(","):
            names += resolve_robots(part.strip(), key)
    return names


def split_members(splits: list[str]) -> list[str]:
    """The robots of the named splits, in order; ValueError naming the choices for an unknown
    split."""
    return [robot for name in splits for robot in split(name)]


def short_name(robot: str) -> str:
    """A robot's name as a plot label: ``urdf:<path>`` becomes ``urdf:<file stem>``, so a long
    path never crowds a figure; every other name is kept."""
    if robot.startswith("urdf:"):
        return "urdf:" + PurePath(robot[len("urdf:") :]).stem
    return robot
