"""Manipulation tasks: reach, push, pick-and-place."""
