"""Mixed-robot vectorised envs: Gymnasium's and SB3's, and SB3 PPO training on one."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import SubprocVecEnv, VecMonitor

from deepwe_rl.envs.vector import env_fns

MIXED = ["panda", "xarm6", "proc:2:0", "proc:4:1", "proc:7:3"]


def test_sync_vector_env_mixes_robots() -> None:
    envs = gym.vector.SyncVectorEnv(env_fns("reach", MIXED))
    obs, _ = envs.reset(seed=0)
    assert obs["joint_mask"].sum(axis=1).tolist() == [7, 6, 2, 4, 7]
    for _ in range(60):  # past the time limit: autoreset works for every robot
        obs, *_ = envs.step(envs.action_space.sample())
    assert obs["joint_state"].shape == (5, 8, 5)
    assert np.all(obs["joint_state"][2, 2:] == 0.0)
    envs.close()


@pytest.mark.slow
def test_sb3_ppo_trains_on_mixed_subproc_vec_env() -> None:
    venv = VecMonitor(SubprocVecEnv(env_fns("reach", MIXED, reward="dense")))
    model = PPO(
        "MultiInputPolicy", venv, n_steps=256, batch_size=256, n_epochs=2, seed=0, device="cpu"
    )
    model.learn(total_timesteps=3000)
    assert model.num_timesteps >= 3000
    assert len(model.ep_info_buffer) > 0  # episodes finished across the mixed robots
    venv.close()
