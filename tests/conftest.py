"""Shared fixtures: an isolated emurl data folder, the Atari ROMs ale-py bundles, envs that close,
and envs on the in-memory fake emulator of ``fakes.py`` (no ROM).

stable-retro runs one emulator per process, so every env a test opens is closed by its
fixture (``make_env``), and a test that needs a second emulator closes the first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import emurl
from emurl.envs import EmulatorEnv
from emurl.games import load_integration
from emurl.states import roms as emurl_roms
from fakes import GAME as FAKE_GAME
from fakes import FakeEmulator, write_integration


_BIG = 4096  # bytes/str longer than this get a summary, not a diff


def pytest_assertrepr_compare(op, left, right):
    """Explain a failed ``==`` between long bytes or strings without difflib.

    pytest's own explanation diffs the two with difflib, which on two 1 MB
    savestates runs for many minutes: CI's timeout then killed the worker and
    the failure looked like a hang (stop 24 and stop 25,
    ``test_genesis_savestate_bytes_round_trip``). This says where they differ.
    """
    if op != "==" or type(left) is not type(right) or not isinstance(left, (bytes, str)):
        return None
    if max(len(left), len(right)) <= _BIG:
        return None
    n = min(len(left), len(right))
    differ = [i for i in range(n) if left[i] != right[i]] if isinstance(left, str) else None
    if differ is None:
        import numpy as np

        a = np.frombuffer(left, np.uint8, n)
        b = np.frombuffer(right, np.uint8, n)
        differ = np.flatnonzero(a != b).tolist()
    lines = [
        f"{type(left).__name__} of {len(left)} == {type(right).__name__} of {len(right)}: "
        f"{len(differ)} of the first {n} differ"
    ]
    if differ:
        first = differ[0]
        lines.append(f"first at offset {first}, last at {differ[-1]}")
        lines.append(f"  left  {left[first:first + 16]!r}")
        lines.append(f"  right {right[first:first + 16]!r}")
    return lines


@pytest.fixture(scope="session", autouse=True)
def emurl_data_dir(tmp_path_factory) -> Path:
    """``EMURL_DATA_DIR`` for the whole session: ROMs and states go to a tmp folder, never ~."""
    path = tmp_path_factory.mktemp("emurl-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMURL_DATA_DIR", str(path))
        mp.delenv("EMURL_GAME_PATH", raising=False)
        # a model.learn() without a TensorBoard folder makes Stable-Baselines3 write an empty
        # SB3-<time> folder; in the session's tmp folder, not the machine's /tmp
        mp.setenv("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3-logs")))
        yield path


@pytest.fixture(scope="session")
def atari_roms(emurl_data_dir):
    """Import ale-py's bundled Atari 2600 ROMs into the session's data folder (once)."""
    result = emurl_roms.import_roms([emurl_roms.ale_py_rom_dir()])
    for game in ("Breakout-Atari2600", "Pong-Atari2600", "Seaquest-Atari2600"):
        assert game in result.imported, f"ale-py's ROMs no longer contain {game}"
    return result


@pytest.fixture
def make_env():
    """Factory ``make_env(game, **kwargs)`` → ``emurl.make(...)``; closes every env it made."""
    made = []

    def factory(game: str, **kwargs):
        env = emurl.make(game, **kwargs)
        made.append(env)
        return env

    yield factory
    for env in reversed(made):
        env.close()


AIRSTRIKER_FILES = ("data.json", "scenario.json", "metadata.json", "rom.sha", "rom.md", "Level1.state")


@pytest.fixture
def user_game(tmp_path):
    """Factory: a user integration made from Airstriker-Genesis's files in ``tmp_path/games``.

    ``user_game(name="MyAir-Genesis", data=..., scenario=..., files={name: text})``:
    ``data`` / ``scenario`` are a dict (written as JSON), a str (written as is), or a
    function taking the original's parsed JSON and returning the new one. Returns the
    ``game_path`` folder to pass to emurl.
    """
    root = tmp_path / "games"
    source = load_integration("Airstriker-Genesis").folder

    def factory(name: str = "MyAir-Genesis", data=None, scenario=None, files=None) -> Path:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for f in AIRSTRIKER_FILES:
            shutil.copy(source / f, folder / f)
        for fname, spec in (("data.json", data), ("scenario.json", scenario)):
            if spec is None:
                continue
            if callable(spec):
                spec = spec(json.loads((source / fname).read_text()))
            text = spec if isinstance(spec, str) else json.dumps(spec, indent=2)
            (folder / fname).write_text(text)
        for fname, text in (files or {}).items():
            (folder / fname).write_text(text)
        return root

    return factory


@pytest.fixture
def fake_env(tmp_path):
    """Factory ``fake_env(scenario=, data=, metadata=, files=, emulator=, **env_kwargs)`` →
    ``(env, emulator)``: an :class:`EmulatorEnv` of the fake game (``fakes.py``) on a
    :class:`fakes.FakeEmulator`, its integration written in ``tmp_path``; closes every env."""
    made = []

    def factory(scenario=None, data=None, metadata=None, files=None, emulator=None, **kwargs):
        root = write_integration(tmp_path / f"games{len(made)}", scenario=scenario, data=data, metadata=metadata, files=files)
        emu = FakeEmulator() if emulator is None else emulator
        env = EmulatorEnv(FAKE_GAME, game_path=str(root), emulator=emu, **kwargs)
        made.append(env)
        return env, emu

    yield factory
    for env in reversed(made):
        env.close()

