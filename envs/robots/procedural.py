"""Procedurally generated serial arms, written as URDF into a cache directory.

``proc:<joints>:<seed>`` names an arm of 2 to 7 revolute joints whose link lengths, axis
pattern, joint limits, masses and optional two-finger gripper are drawn from the seed. The same
name always gives the same file, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepwe_rl.envs.robots.cache import default_cache_dir, write_atomically

MIN_JOINTS = 2
MAX_JOINTS = 7

_AXES = {"yaw": "0 0 1", "pitch": "0 1 0", "pitch_x": "1 0 0", "roll": "0 0 1"}
_BASE_HEIGHT = 0.05
_LINK_RADIUS = 0.03


@dataclass(frozen=True)
class ProcJoint:
    """One generated joint and the link it drives."""

    kind: str
    length: float
    lower: float
    upper: float
    velocity: float
    effort: float
    mass: float


@dataclass(frozen=True)
class ProcArm:
    """The parameters of one generated arm, drawn from ``(num_joints, seed)``."""

    num_joints: int
    seed: int
    joints: tuple[ProcJoint, ...]
    gripper: bool

    @property
    def name(self) -> str:
        return f"proc:{self.num_joints}:{self.seed}"


def parse_proc_name(name: str) -> tuple[int, int]:
    """Split ``proc:<joints>:<seed>`` into its joint count and seed, with a clear error."""
    parts = name.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise ValueError(
            f"bad procedural robot name '{name}': expected proc:<joints>:<seed>, e.g. proc:4:0"
        )
    joints, seed = int(parts[1]), int(parts[2])
    if not MIN_JOINTS <= joints <= MAX_JOINTS:
        raise ValueError(
            f"bad procedural robot name '{name}': joints must be {MIN_JOINTS} to {MAX_JOINTS}"
        )
    return joints, seed


def sample_arm(num_joints: int, seed: int) -> ProcArm:
    """Draw the arm's parameters. The first joint is a yaw and the second a pitch, so every
    arm can turn around its base and lean towards the table."""
    rng = np.random.default_rng([num_joints, seed, 20261121])
    reach = rng.uniform(0.55, 0.85)
    shoulder = rng.uniform(0.10, 0.18)
    rest = rng.dirichlet(np.full(num_joints - 1, 2.0)) * (reach - shoulder)
    lengths = [shoulder, *np.maximum(rest, 0.04)]
    kinds = ["yaw", "pitch"] + [
        str(rng.choice(["pitch", "pitch", "pitch_x", "roll"])) for _ in range(num_joints - 2)
    ]
    joints = []
    for i, (kind, length) in enumerate(zip(kinds, lengths, strict=True)):
        span = {"yaw": (2.2, 3.1), "roll": (2.0, 3.1)}.get(kind, (1.7, 2.5))
        lower, upper = -rng.uniform(*span), rng.uniform(*span)
        distal = sum(lengths[i:])
        joints.append(
            ProcJoint(
                kind=kind,
                length=float(length),
                lower=float(lower),
                upper=float(upper),
                velocity=float(rng.uniform(1.5, 3.0)),
                effort=float(rng.uniform(40.0, 80.0) * distal + 5.0),
                mass=float(rng.uniform(1.5, 2.5) * length + 0.1),
            )
        )
    return ProcArm(num_joints, seed, tuple(joints), gripper=bool(rng.random() < 0.5))


def home_pose(arm: ProcArm) -> tuple[float, ...]:
    """A bent start pose: pitch joints lean the arm forward so the end effector is over the
    table in front of the base, not at the singular straight-up pose."""
    bends = iter((0.7, 0.8, 0.5, 0.4, 0.3, 0.2))
    q = [next(bends) if j.kind == "pitch" else 0.0 for j in arm.joints]
    return tuple(float(np.clip(x, j.lower, j.upper)) for x, j in zip(q, arm.joints, strict=True))


def _f(x: float) -> str:
    return f"{x:.5f}"


def _inertial(mass: float, length: float, radius: float) -> str:
    ixx = mass * (3 * radius**2 + length**2) / 12.0
    izz = mass * radius**2 / 2.0
    return (
        f'    <inertial><origin xyz="0 0 {_f(length / 2)}"/><mass value="{_f(mass)}"/>'
        f'<inertia ixx="{_f(ixx)}" iyy="{_f(ixx)}" izz="{_f(izz)}" ixy="0" ixz="0" iyz="0"/>'
        "</inertial>\n"
    )


def _cylinder_link(name: str, length: float, radius: float, mass: float, color: str) -> str:
    geom = f'<geometry><cylinder radius="{_f(radius)}" length="{_f(length)}"/></geometry>'
    origin = f'<origin xyz="0 0 {_f(length / 2)}"/>'
    return (
        f'  <link name="{name}">\n'
        + _inertial(mass, length, radius)
        + f'    <visual>{origin}{geom}<material name="{color}"/></visual>\n'
        + f"    <collision>{origin}{geom}</collision>\n"
        + "  </link>\n"
    )


def _box_link(name: str, size: tuple[float, float, float], mass: float, z: float) -> str:
    sx, sy, sz = (_f(s) for s in size)
    geom = f'<geometry><box size="{sx} {sy} {sz}"/></geometry>'
    origin = f'<origin xyz="0 0 {_f(z)}"/>'
    inertia = _f(mass * max(size) ** 2 / 6.0)
    return (
        f'  <link name="{name}">\n'
        f'    <inertial>{origin}<mass value="{_f(mass)}"/>'
        f'<inertia ixx="{inertia}" iyy="{inertia}" izz="{inertia}" ixy="0" ixz="0" iyz="0"/>'
        "</inertial>\n"
        f'    <visual>{origin}{geom}<material name="grey"/></visual>\n'
        f"    <collision>{origin}{geom}</collision>\n"
        "  </link>\n"
    )


def arm_urdf(arm: ProcArm) -> str:
    """The URDF text of a generated arm: links point straight up at zero pose."""
    out = [
        '<?xml version="1.0"?>\n',
        f'<robot name="proc_{arm.num_joints}_{arm.seed}">\n',
        '  <material name="blue"><color rgba="0.25 0.45 0.85 1"/></material>\n',
        '  <material name="orange"><color rgba="0.95 0.55 0.2 1"/></material>\n',
        '  <material name="grey"><color rgba="0.6 0.6 0.6 1"/></material>\n',
        _cylinder_link("base", _BASE_HEIGHT, 0.07, 2.0, "grey"),
    ]
    parent, z = "base", _BASE_HEIGHT
    for i, j in enumerate(arm.joints):
        link = f"link{i + 1}"
        out.append(
            _cylinder_link(link, j.length, _LINK_RADIUS, j.mass, "blue" if i % 2 else "orange")
        )
        out.append(
            f'  <joint name="joint{i + 1}" type="revolute">\n'
            f'    <parent link="{parent}"/><child link="{link}"/>\n'
            f'    <origin xyz="0 0 {_f(z)}"/><axis xyz="{_AXES[j.kind]}"/>\n'
            f'    <limit lower="{_f(j.lower)}" upper="{_f(j.upper)}" '
            f'effort="{_f(j.effort)}" velocity="{_f(j.velocity)}"/>\n'
            '    <dynamics damping="0.5" friction="0.0"/>\n'
            "  </joint>\n"
        )
        parent, z = link, j.length
    # The end effector sits at the tip, or between the fingertips when there is a gripper.
    ee_parent, ee_z = ("palm", 0.045) if arm.gripper else (parent, z)
    out.append(
        '  <link name="ee"><inertial><mass value="0.01"/>'
        '<inertia ixx="1e-6" iyy="1e-6" izz="1e-6" ixy="0" ixz="0" iyz="0"/></inertial></link>\n'
        '  <joint name="ee_fixed" type="fixed">\n'
        f'    <parent link="{ee_parent}"/><child link="ee"/><origin xyz="0 0 {_f(ee_z)}"/>\n'
        "  </joint>\n"
    )
    if arm.gripper:
        out.append(_box_link("palm", (0.1, 0.03, 0.02), 0.2, 0.01))
        out.append(
            '  <joint name="palm_fixed" type="fixed">\n'
            f'    <parent link="{parent}"/><child link="palm"/><origin xyz="0 0 {_f(z)}"/>\n'
            "  </joint>\n"
        )
        for side, sign in (("left", 1.0), ("right", -1.0)):
            out.append(_box_link(f"{side}_finger", (0.012, 0.02, 0.05), 0.05, 0.025))
            out.append(
                f'  <joint name="{side}_finger_joint" type="prismatic">\n'
                f'    <parent link="palm"/><child link="{side}_finger"/>\n'
                f'    <origin xyz="{_f(sign * 0.006)} 0 0.02"/><axis xyz="{_f(sign)} 0 0"/>\n'
                '    <limit lower="0" upper="0.04" effort="20" velocity="0.2"/>\n'
                "  </joint>\n"
            )
    out.append("</robot>\n")
    return "".join(out)


def proc_urdf_path(name: str, cache_dir: Path | None = None) -> Path:
    """Generate (if needed) and return the URDF file for ``proc:<joints>:<seed>``."""
    joints, seed = parse_proc_name(name)
    text = arm_urdf(sample_arm(joints, seed))
    folder = (cache_dir or default_cache_dir()) / "robots"
    path = folder / f"proc_{joints}_{seed}.urdf"
    if path.exists() and path.read_text() == text:
        return path
    return write_atomically(path, text.encode())
