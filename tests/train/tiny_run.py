"""Helpers of the run-folder tests (the fixtures that use them are in ``conftest.py``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from emurl.train.config import TrainConfig, apply

TINY = dict(game="Airstriker-Genesis", obs_type="variables", num_envs=1, n_steps=32, batch_size=32, n_epochs=1,
            total_steps=96, checkpoint_every=32, keep_checkpoints=0, eval_every=0, eval_max_steps=10, video=False)
"""A run of seconds: Airstriker's variables (a small MLP), one env, a checkpoint every 32 agent steps."""


def tiny_config(runs_dir: Path, **changes) -> TrainConfig:
    """:data:`TINY` making its run folders in ``runs_dir``, with ``changes``."""
    return apply(TrainConfig(), {**TINY, "runs_dir": str(runs_dir), **changes}, "test")


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` → the SHA-256 of its bytes ("dir" for a folder)."""
    return {str(p.relative_to(folder)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))}
