"""SB3 and RLlib adapters and training loops (installed as deepwe_rl.agents)."""
