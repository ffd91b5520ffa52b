"""A tiny trained run, made once per session and copied for each test that changes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emurl.train.run import train
from tiny_run import tiny_config


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A run folder trained to 96 agent steps: model_32/64/96.zip, latest.zip, best.zip."""
    return train(tiny_config(tmp_path_factory.mktemp("runs")), progress_bar=False)


@pytest.fixture
def run_copy(trained_run, tmp_path) -> Path:
    """A copy of :func:`trained_run` this test may change."""
    return Path(shutil.copytree(trained_run, tmp_path / trained_run.name))
