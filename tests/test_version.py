"""One version: the package's and pyproject.toml's agree."""

import tomllib
from pathlib import Path

import emurl
from emurl.version import __version__


def test_one_version():
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert emurl.__version__ == __version__ == project["version"]
