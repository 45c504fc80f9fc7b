"""The Ray RLlib backend: PPO on mixed-robot env runners with deepwe_rl's networks.

The public functions live in ``deepwe_rl.agents.rllib.train``. Importing this package does not
import Ray; the submodules that need it are imported when a function runs.
"""
