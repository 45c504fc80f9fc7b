"""Starting and stopping Ray around one run: ``deepwe_rl.agents.ray_cluster.ray_session``,
which both backends share, under the name the RLlib backend has always used."""

from __future__ import annotations

from deepwe_rl.agents.ray_cluster import OBJECT_STORE_BYTES, ray_session

__all__ = ["OBJECT_STORE_BYTES", "ray_session"]
