"""PyBullet manipulation environments shared by every robot (installed as deepwe_rl.envs).

Importing this package registers ``deepwe_rl/Reach-v0``, ``deepwe_rl/Push-v0`` and
``deepwe_rl/PickAndPlace-v0`` with Gymnasium.
"""

import os
import sys


def _import_pybullet_quietly() -> None:
    """Import pybullet with the C-level stderr silenced: it prints its build time otherwise."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import pybullet  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_pybullet_quietly()

from gymnasium.envs.registration import register, registry  # noqa: E402

from deepwe_rl.envs.manipulation_env import TASKS, ManipulationEnv  # noqa: E402

ENV_IDS = {name: f"deepwe_rl/{task.__name__}-v0" for name, task in TASKS.items()}
"""Each task name's Gymnasium id."""

for _task, _id in ENV_IDS.items():
    if _id not in registry:
        register(
            id=_id,
            entry_point="deepwe_rl.envs.manipulation_env:ManipulationEnv",
            kwargs={"task": _task},
            max_episode_steps=50,
        )

__all__ = ["ENV_IDS", "ManipulationEnv"]
