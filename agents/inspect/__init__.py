"""``deepwe-rl inspect``: views into a trained run's weight space (embedding projector,
generated-weight heat maps, weight-space similarity) and attribution of its actions."""
