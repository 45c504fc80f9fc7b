"""Stable-Baselines3 backend: DeepWe policies for PPO and SAC, callbacks and the training loop."""
