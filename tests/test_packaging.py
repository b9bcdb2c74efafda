"""The version is written once (python/tapegrad/__init__.py) and everything that states one agrees:
CMake's project(VERSION), and the installed distribution's metadata with its SPDX license."""

import importlib.metadata
import pathlib
import shutil
import subprocess

import pytest

import tapegrad

ROOT = pathlib.Path(__file__).resolve().parent.parent


def installed_distribution():
    """The metadata of the tapegrad that was imported, or None when it runs from a source folder."""
    try:
        distribution = importlib.metadata.distribution("tapegrad")
    except importlib.metadata.PackageNotFoundError:
        return None
    installed_init = pathlib.Path(distribution.locate_file("tapegrad/__init__.py")).resolve()
    return distribution if installed_init == pathlib.Path(tapegrad.__file__).resolve() else None


@pytest.mark.skipif(shutil.which("cmake") is None, reason="needs cmake")
@pytest.mark.skipif(not (ROOT / "cmake" / "tapegradVersion.cmake").exists(), reason="needs the source tree")
def test_cmake_project_version_is_the_python_version():
    result = subprocess.run(["cmake", "-P", str(ROOT / "cmake" / "tapegradVersion.cmake")],
                            capture_output=True, text=True, check=True)
    # message(NOTICE) writes to stderr.
    assert result.stderr.strip() == tapegrad.__version__


def test_installed_metadata_has_the_version_and_the_license():
    distribution = installed_distribution()
    if distribution is None:
        pytest.skip("tapegrad is imported from a source folder, not from an installed distribution")
    assert distribution.version == tapegrad.__version__
    assert distribution.metadata["License-Expression"] == "MIT"
    assert any(path.name == "LICENSE" for path in distribution.files)
