"""A headless PyBullet world: its own physics client, fixed timestep and substeps, cameras."""

from __future__ import annotations

import numpy as np
import pybullet as p

TIMESTEP = 1.0 / 500.0
SUBSTEPS = 20


class BulletSim:
    """One PyBullet client in DIRECT mode (no display needed), stepped ``substeps`` times per
    environment step at ``timestep`` seconds each."""

    def __init__(self, timestep: float = TIMESTEP, substeps: int = SUBSTEPS) -> None:
        self.id: int = p.connect(p.DIRECT)
        self._connected = True
        self.timestep = timestep
        self.substeps = substeps
        self.plane: int | None = None
        # Substeps are separate stepSimulation calls: Bullet's internal numSubSteps is measurably
        # different physics for position-controlled joints (benchmarks/env_throughput.py).
        p.setTimeStep(timestep, physicsClientId=self.id)
        p.setGravity(0.0, 0.0, -9.81, physicsClientId=self.id)

    def step(self) -> None:
        for _ in range(self.substeps):
            p.stepSimulation(physicsClientId=self.id)

    def remove(self, body: int) -> None:
        p.removeBody(body, physicsClientId=self.id)

    def add_plane(self) -> int:
        """A static ground plane at z = 0: the table top every robot stands on."""
        shape = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=self.id)
        visual = p.createVisualShape(
            p.GEOM_BOX,
            halfExtents=[1.0, 1.0, 0.001],
            rgbaColor=[0.85, 0.85, 0.8, 1.0],
            physicsClientId=self.id,
        )
        self.plane = p.createMultiBody(0.0, shape, visual, [0.0, 0.0, 0.0], physicsClientId=self.id)
        return self.plane

    def add_box(self, half_size: float, mass: float, rgba: tuple[float, ...]) -> int:
        """A cube with collision; ``mass=0`` would make it static."""
        shape = p.createCollisionShape(
            p.GEOM_BOX, halfExtents=[half_size] * 3, physicsClientId=self.id
        )
        visual = p.createVisualShape(
            p.GEOM_BOX, halfExtents=[half_size] * 3, rgbaColor=list(rgba), physicsClientId=self.id
        )
        body = p.createMultiBody(
            mass, shape, visual, [0.0, 0.0, half_size], physicsClientId=self.id
        )
        p.changeDynamics(body, -1, lateralFriction=1.0, physicsClientId=self.id)
        return body

    def add_marker(self, radius: float, rgba: tuple[float, ...]) -> int:
        """A visual-only sphere (no collision, no mass): shows the goal in renders."""
        visual = p.createVisualShape(
            p.GEOM_SPHERE, radius=radius, rgbaColor=list(rgba), physicsClientId=self.id
        )
        return p.createMultiBody(0.0, -1, visual, [0.0, 0.0, 0.0], physicsClientId=self.id)

    def set_pose(self, body: int, position: np.ndarray) -> None:
        """Place a body at ``position`` with identity orientation and zero velocity."""
        p.resetBasePositionAndOrientation(
            body, position.tolist(), [0.0, 0.0, 0.0, 1.0], physicsClientId=self.id
        )
        p.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], physicsClientId=self.id)

    def body_state(self, body: int, out: np.ndarray) -> None:
        """Write a body's position, quaternion (xyzw), linear and angular velocity into ``out``."""
        pos, quat = p.getBasePositionAndOrientation(body, physicsClientId=self.id)
        lin, ang = p.getBaseVelocity(body, physicsClientId=self.id)
        out[0:3] = pos
        out[3:7] = quat
        out[7:10] = lin
        out[10:13] = ang

    def _camera(self, width: int, height: int, target: np.ndarray, distance: float):
        view = p.computeViewMatrixFromYawPitchRoll(
            cameraTargetPosition=target.tolist(),
            distance=distance,
            yaw=45.0,
            pitch=-30.0,
            roll=0.0,
            upAxisIndex=2,
            physicsClientId=self.id,
        )
        proj = p.computeProjectionMatrixFOV(
            fov=60.0, aspect=width / height, nearVal=0.05, farVal=3.0, physicsClientId=self.id
        )
        return p.getCameraImage(
            width,
            height,
            viewMatrix=view,
            projectionMatrix=proj,
            renderer=p.ER_TINY_RENDERER,
            physicsClientId=self.id,
        )

    def render_rgb(
        self,
        width: int = 480,
        height: int = 480,
        target: np.ndarray | None = None,
        distance: float = 1.6,
    ) -> np.ndarray:
        """An RGB image (height, width, 3) uint8 from the software renderer, headless."""
        target = np.array([0.2, 0.0, 0.2]) if target is None else target
        _, _, rgba, _, _ = self._camera(width, height, target, distance)
        return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[..., :3].copy()

    def render_depth(
        self, width: int, height: int, target: np.ndarray, distance: float
    ) -> np.ndarray:
        """A depth image (height, width) in [0, 1]: metres from the camera over the far plane."""
        near, far = 0.05, 3.0
        _, _, _, zbuf, _ = self._camera(width, height, target, distance)
        zbuf = np.asarray(zbuf, dtype=np.float32).reshape(height, width)
        metres = far * near / (far - (far - near) * zbuf)
        return np.clip(metres / far, 0.0, 1.0)

    def close(self) -> None:
        if getattr(self, "_connected", False):
            p.disconnect(physicsClientId=self.id)
            self._connected = False

    def __del__(self) -> None:
        self.close()
