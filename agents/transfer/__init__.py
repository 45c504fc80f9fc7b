"""Cross-morphology transfer: how a trained policy does on robots it never saw, zero-shot and
after a little fine-tuning, next to the same budget trained from scratch."""
