"""The TensorBoard records of a run whose envs live in Ray actors (``env.vec: ray``)."""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback

from deepwe_rl.agents.metrics import ENV_ACTOR_RESTARTS_TAG, PLACEMENT_TAG
from deepwe_rl.agents.ray_cluster import placement_text
from deepwe_rl.agents.sb3.ray_vec_env import RayVecEnv


class RayRollouts(BaseCallback):
    """TensorBoard records of a ``RayVecEnv``: where its actors run (``cluster/rollout_nodes``,
    text, again after a restart) and ``faults/env_actor_restarts`` after every rollout."""

    def __init__(self) -> None:
        super().__init__()
        self._logged_restarts = -1

    def _venv(self) -> RayVecEnv:
        venv = self.training_env.unwrapped
        assert isinstance(venv, RayVecEnv)
        return venv

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        venv = self._venv()
        self.logger.record(ENV_ACTOR_RESTARTS_TAG, venv.restarts)
        if venv.restarts != self._logged_restarts:
            self._logged_restarts = venv.restarts
            self.logger.record(
                PLACEMENT_TAG,
                placement_text(venv.placements),
                exclude=("stdout", "log", "json", "csv"),
            )
