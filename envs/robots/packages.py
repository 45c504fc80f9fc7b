"""Mesh files a URDF names, found before PyBullet loads it: ``package://`` URIs resolved to
folders, and every mesh checked to exist.

PyBullet does not know ROS packages. A URDF whose meshes are ``package://<pkg>/<path>`` is
loaded from a copy, in the user's cache directory, with those URIs rewritten to absolute paths;
the original and the package folders are never written to. A package ``<pkg>`` is found, in this
order, at:

- an entry of ``$ROS_PACKAGE_PATH`` (folders separated by ``os.pathsep``, as ROS has it) that is
  the package, or a folder directly inside such an entry that is;
- a folder above the URDF that is the package, or a folder named ``<pkg>`` directly inside one
  (a URDF inside its own package, or in a package beside it, needs nothing set).

A folder is the package ``<pkg>`` when it is named ``<pkg>`` or its ``package.xml`` names it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path

from deepwe_rl.envs.robots.cache import default_cache_dir, write_atomically
from deepwe_rl.envs.robots.errors import RobotLoadError

PACKAGE_PATH_VAR = "ROS_PACKAGE_PATH"
"""The environment variable listing folders to find ``package://`` packages in."""

_PACKAGE = "package://"
_FILE = "file://"
_BULLET_LEVELS = 7
"""The URDF's folder and the six above it, where PyBullet looks for a ``package://`` path."""


@functools.cache
def example_robot_data() -> Path:
    """The ``robots`` folder of the installed ``example-robot-data`` package (its URDFs and
    meshes, in the package's cmeel prefix), found through the package's installed files."""
    dist = distribution("example-robot-data")
    return Path(str(dist.locate_file("cmeel.prefix/share/example-robot-data/robots")))


def _is_package(folder: Path, package: str) -> bool:
    if not folder.is_dir():
        return False
    if folder.name == package:
        return True
    manifest = folder / "package.xml"
    if not manifest.is_file():
        return False
    try:
        name = ET.parse(manifest).getroot().findtext("name")
    except ET.ParseError:
        return False
    return name is not None and name.strip() == package


def _candidates(package: str, urdf: Path) -> Iterator[Path]:
    entries = [Path(e).expanduser() for e in os.environ.get(PACKAGE_PATH_VAR, "").split(os.pathsep)]
    for root in [e for e in entries if e.parts]:
        yield root
        yield root / package
        if root.is_dir():
            yield from sorted(f for f in root.iterdir() if (f / "package.xml").is_file())
    for root in urdf.resolve().parents:
        yield root
        yield root / package


def find_package(package: str, urdf: Path) -> Path:
    """The folder of ROS package ``package`` for a URDF at ``urdf`` (see the module's doc)."""
    for folder in _candidates(package, urdf):
        if _is_package(folder, package):
            return folder
    raise RobotLoadError(
        f"URDF {urdf}: package '{package}' of its meshes not found; "
        f"add the folder that holds it to ${PACKAGE_PATH_VAR}"
    )


def mesh_path(uri: str, urdf: Path) -> Path:
    """The file a URDF's mesh ``filename`` names: a ``package://`` or ``file://`` URI, or a
    path, absolute or relative to the URDF's folder."""
    if uri.startswith(_PACKAGE):
        package, _, rest = uri[len(_PACKAGE) :].partition("/")
        return find_package(package, urdf) / rest
    if uri.startswith(_FILE):
        return Path(uri[len(_FILE) :])
    return urdf.parent / uri


def _bullet_finds(uri: str, path: Path, urdf: Path) -> bool:
    """Whether PyBullet finds the file ``path`` for the ``package://`` ``uri`` by itself: it
    drops the scheme and looks for the rest in the URDF's folder and the six above it."""
    rest = uri[len(_PACKAGE) :]
    folders = [urdf.parent, *urdf.parent.parents][:_BULLET_LEVELS]
    found = next((f / rest for f in folders if (f / rest).is_file()), None)
    return found is not None and found.resolve() == path.resolve()


def loadable_urdf(root: ET.Element, urdf: Path, cache_dir: Path | None = None) -> Path:
    """A URDF file PyBullet can load for the parsed URDF ``root`` read from ``urdf``: ``urdf``
    itself when PyBullet finds every mesh as named (so the arms of ``pybullet_data`` and
    ``example-robot-data`` load their own files), else a copy, named by a hash of its content
    under the cache directory, with every mesh an absolute path. Raises RobotLoadError naming
    the URDF and the mesh when a mesh file or its package is not found."""
    rewrite = False
    for mesh in root.iter("mesh"):
        uri = mesh.get("filename", "")
        path = mesh_path(uri, urdf)
        if not path.is_file():
            raise RobotLoadError(f"URDF {urdf}: mesh file not found: {uri} (looked for {path})")
        if uri.startswith(_PACKAGE) and not _bullet_finds(uri, path, urdf):
            rewrite = True
        mesh.set("filename", str(path.resolve()))
    if not rewrite:
        return urdf
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = (cache_dir or default_cache_dir()) / "resolved"
    path = folder / f"{urdf.stem}-{digest}.urdf"
    return path if path.is_file() else write_atomically(path, data)
