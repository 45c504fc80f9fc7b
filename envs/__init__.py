"""PyBullet manipulation environments shared by every robot (installed as deepwe_rl.envs).

Importing this package registers ``deepwe_rl/Reach-v0``, ``deepwe_rl/Push-v0`` and
``deepwe_rl/PickAndPlace-v0`` with Gymnasium.
"""

from deepwe_rl.envs.manipulation_env import ManipulationEnv
from gymnasium.envs.registration import register, registry

ENV_IDS = {
    "reach": "deepwe_rl/Reach-v0",
    "push": "deepwe_rl/Push-v0",
    "pick_and_place": "deepwe_rl/PickAndPlace-v0",
}

for _task, _id in ENV_IDS.items():
    if _id not in registry:
        register(
            id=_id,
            entry_point="deepwe_rl.envs.manipulation_env:ManipulationEnv",
            kwargs={"task": _task},
            max_episode_steps=50,
        )

__all__ = ["ENV_IDS", "ManipulationEnv"]
