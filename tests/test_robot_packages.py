"""A user's URDF arm whose meshes are ``package://`` URIs: found through ``$ROS_PACKAGE_PATH``
or next to the URDF, never written into; a missing mesh or package is one line naming it."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import pytest

import deepwe_rl.envs  # noqa: F401
from deepwe_rl.envs.robots.structure import RobotLoadError
from tests.cli_runs import run_cli

_LINK = (
    "<link name='{name}'><inertial><mass value='0.5'/><inertia ixx='0.01' iyy='0.01' "
    "izz='0.01' ixy='0' ixz='0' iyz='0'/></inertial>"
    "<visual><geometry><mesh filename='{mesh}'/></geometry></visual>"
    "<collision><geometry><mesh filename='{mesh}'/></geometry></collision></link>"
)
_JOINT = (
    "<joint name='{name}' type='revolute'><parent link='{parent}'/><child link='{child}'/>"
    "<origin xyz='0 0 {z}'/><axis xyz='0 1 0'/>"
    "<limit lower='-1.5' upper='1.5' effort='30' velocity='2'/></joint>"
)
# A box 4 cm wide and 20 cm tall, standing on its link's origin.
_OBJ = "".join(
    f"v {x} {y} {z}\n" for x in (-0.02, 0.02) for y in (-0.02, 0.02) for z in (0.0, 0.2)
) + "".join(
    f"f {a} {b} {c}\n"
    for a, b, c in [
        (1, 3, 4), (1, 4, 2), (5, 6, 8), (5, 8, 7), (1, 2, 6), (1, 6, 5),
        (3, 7, 8), (3, 8, 4), (1, 5, 7), (1, 7, 3), (2, 4, 8), (2, 8, 6),
    ]
)  # fmt: skip


def write_packaged_arm(urdf: Path, package_root: Path, package: str = "bench_arm") -> Path:
    """A 2-joint arm at ``urdf`` whose links are one mesh of ROS package ``package``, written
    (with its package.xml) under ``package_root``."""
    meshes = package_root / package / "meshes"
    meshes.mkdir(parents=True, exist_ok=True)
    (meshes / "link.obj").write_text(_OBJ)
    (package_root / package / "package.xml").write_text(
        f"<package><name>{package}</name></package>"
    )
    mesh = f"package://{package}/meshes/link.obj"
    text = "<robot name='bench'>" + "".join(_LINK.format(name=n, mesh=mesh) for n in "abc")
    text += _JOINT.format(name="j1", parent="a", child="b", z=0.2)
    text += _JOINT.format(name="j2", parent="b", child="c", z=0.2) + "</robot>"
    urdf.parent.mkdir(parents=True, exist_ok=True)
    urdf.write_text(text)
    return urdf


def _files(folder: Path) -> dict[Path, bytes]:
    return {f: f.read_bytes() for f in folder.rglob("*") if f.is_file()}


def test_package_found_through_ros_package_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws"
    urdf = write_packaged_arm(tmp_path / "elsewhere" / "arm.urdf", workspace)
    before = _files(tmp_path)
    monkeypatch.setenv("DEEPWE_RL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(
        "ROS_PACKAGE_PATH", os.pathsep.join([str(tmp_path / "none"), str(workspace)])
    )
    env = gym.make("deepwe_rl/Reach-v0", robot=f"urdf:{urdf}").unwrapped
    env.reset(seed=0)
    assert env.arm.num_joints == 2
    env.close()
    after = _files(tmp_path)
    assert {f: after[f] for f in before} == before  # the URDF and package are left alone
    (copy,) = (tmp_path / "cache").rglob("*.urdf")  # loaded from a copy with absolute paths
    assert str(workspace / "bench_arm" / "meshes" / "link.obj") in copy.read_text()


def test_package_beside_the_urdf_or_named_by_its_package_xml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ROS workspace: the URDF in one package, its meshes in another beside it, found with
    nothing set; once that folder has another name, found in ``$ROS_PACKAGE_PATH`` by its
    package.xml."""
    src = tmp_path / "src"
    urdf = write_packaged_arm(src / "arm_description" / "arm.urdf", src)
    monkeypatch.delenv("ROS_PACKAGE_PATH", raising=False)
    monkeypatch.setenv("DEEPWE_RL_CACHE", str(tmp_path / "cache"))
    assert gym.make("deepwe_rl/Reach-v0", robot=f"urdf:{urdf}").unwrapped.arm.num_joints == 2
    (src / "bench_arm").rename(src / "bench_arm_meshes")
    with pytest.raises(RobotLoadError, match="package 'bench_arm' of its meshes not found"):
        gym.make("deepwe_rl/Reach-v0", robot=f"urdf:{urdf}")
    monkeypatch.setenv("ROS_PACKAGE_PATH", str(src))
    env = gym.make("deepwe_rl/Reach-v0", robot=f"urdf:{urdf}").unwrapped
    assert env.arm.num_joints == 2
    env.close()


def test_missing_mesh_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urdf = write_packaged_arm(tmp_path / "bench_arm" / "urdf" / "arm.urdf", tmp_path)
    (tmp_path / "bench_arm" / "meshes" / "link.obj").unlink()
    monkeypatch.delenv("ROS_PACKAGE_PATH", raising=False)
    with pytest.raises(RobotLoadError, match="mesh file not found: package://bench_arm/"):
        gym.make("deepwe_rl/Reach-v0", robot=f"urdf:{urdf}")


@pytest.mark.parametrize("fault", ["missing mesh", "unknown package"])
def test_cli_one_line_no_run_dir(tmp_path: Path, fault: str) -> None:
    """``deepwe-rl train`` with such an arm: exit 2, one line naming the URDF and the mesh or
    package, no traceback and no run directory."""
    urdf = write_packaged_arm(tmp_path / "arm" / "arm.urdf", tmp_path / "ws")
    if fault == "missing mesh":
        (tmp_path / "ws" / "bench_arm" / "meshes" / "link.obj").unlink()
    env = {k: v for k, v in os.environ.items() if k != "ROS_PACKAGE_PATH"}
    if fault == "missing mesh":
        env["ROS_PACKAGE_PATH"] = str(tmp_path / "ws")
    runs = tmp_path / "runs"
    result = run_cli(
        "train", "configs/quickstart.yaml", f"env.robots=[urdf:{urdf}]", f"runs_dir={runs}",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    expected = "mesh file not found" if fault == "missing mesh" else "package 'bench_arm'"
    assert len(lines) == 1 and expected in lines[0] and str(urdf) in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not runs.exists() or not any(runs.iterdir())
