"""PyBullet manipulation environments shared by every robot (installed as deepwe_rl.envs).

Importing this package registers ``deepwe_rl/Reach-v0``, ``deepwe_rl/Push-v0`` and
``deepwe_rl/PickAndPlace-v0`` with Gymnasium.
"""

from deepwe_rl.envs.quiet import c_output_silenced

with c_output_silenced(2):  # pybullet prints its build time otherwise
    import pybullet  # noqa: F401

from gymnasium.envs.registration import register, registry

from deepwe_rl.envs.manipulation_env import TASKS, ManipulationEnv

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
