"""deepwe-rl: one RL policy for many robot arms."""

__version__ = "0.1.0"
