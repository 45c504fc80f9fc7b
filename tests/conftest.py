"""Shared fixtures: a private URDF cache per test session, so tests never touch ~/.cache."""

from __future__ import annotations

import os
import tempfile

# Set before deepwe_rl.envs generates any URDF.
os.environ.setdefault("DEEPWE_RL_CACHE", tempfile.mkdtemp(prefix="deepwe_rl_test_cache_"))
