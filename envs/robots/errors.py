"""The error for a robot that cannot be loaded, shared by the modules that load one."""

from __future__ import annotations


class RobotLoadError(ValueError):
    """A URDF that cannot serve as an arm: missing, malformed, without movable joints, or with
    a mesh that is not found."""
