"""Rebuilding our homebrew games from source, as their ROM-reproducibility tests do."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def rebuild(game_folder: str, rom_name: str, build: Path) -> tuple[Path, str]:
    """Run ``homebrew/<game_folder>/build.sh`` into ``build`` (the committed ROM untouched);
    returns the built ROM and its whole-file SHA-1, after checking the script printed it."""
    env = dict(os.environ, BUILD_DIR=str(build), NO_INSTALL="1", PYTHON=sys.executable)
    res = subprocess.run(["sh", str(REPO / "homebrew" / game_folder / "build.sh")], env=env, check=True,
                         capture_output=True, text=True)
    rom = build / rom_name
    sha = hashlib.sha1(rom.read_bytes()).hexdigest()
    assert res.stdout.strip() == sha, (res.stdout, sha)
    return rom, sha
