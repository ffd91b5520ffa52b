"""Every file reader answers in one voice (issue 21, item 7): a damaged or misplaced file is
an EmurlError whose message names the file and what was expected, through the path a user
takes (``emurl.make``, the command line), on real emulators where the emulator is the reader.

The random damage of every file kind is tests/test_fuzz.py's; these are the named cases.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import emurl
import emurl.cli.movies
from emurl.cli import main
from emurl.errors import EmulatorError, EmurlError, IntegrationError, MovieError
from emurl.games import load_integration
from emurl.movies.movie import Movie
from emurl.movies.replay import write_video

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def user_states(tmp_path, monkeypatch):
    """The user's state folder of MiniDoc-Nes (its ROM ships with emurl) in a fresh data folder."""
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    folder = load_integration("MiniDoc-Nes").user_state_dir()
    folder.mkdir(parents=True)
    return folder


def _make(game: str, **kwargs):
    env = emurl.make(game, **kwargs)
    try:
        env.reset(seed=0)
    finally:
        env.close()


# -- savestates ----------------------------------------------------------------------------
def test_a_state_cut_short_names_the_file(user_states):
    good = load_integration("MiniDoc-Nes").folder / "1P_L0_Low.state"
    (user_states / "Cut.state").write_bytes(good.read_bytes()[:100])
    with pytest.raises(IntegrationError, match=r"Cut\.state: damaged savestate: expected a gzip file"):
        _make("MiniDoc-Nes", state="Cut")


@pytest.mark.parametrize("compressed", [False, True], ids=["random-bytes", "gzip-of-random-bytes"])
def test_a_state_of_random_bytes_is_refused_by_the_emulator(user_states, compressed):
    data = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    (user_states / "Noise.state").write_bytes(gzip.compress(data) if compressed else data)
    with pytest.raises(EmulatorError, match=r"Noise\.state: start state 'Noise': .*refused the savestate"):
        _make("MiniDoc-Nes", state="Noise")


# -- Python beside an integration ------------------------------------------------------------
@pytest.mark.parametrize("source, line, kind", [
    ("class Scenario:\n    def reward(self, v:\n        return 0\n", 2, "SyntaxError"),
    ("import math\n\nVALUE = math.nope\n", 3, "AttributeError"),
], ids=["syntax-error", "error-while-importing"])
def test_a_scenario_module_that_does_not_import_names_the_file_and_line(user_game, source, line, kind):
    root = user_game(scenario={"python": "bad.py:Scenario"}, files={"bad.py": source})
    scenario = load_integration("MyAir-Genesis", str(root)).scenario()
    with pytest.raises(IntegrationError, match=rf"scenario\.json: python: .*bad\.py, line {line}: {kind}"):
        scenario.load_python()
    with pytest.raises(IntegrationError, match=rf"bad\.py, line {line}"):
        _make("MyAir-Genesis", game_path=str(root))


def test_an_address_outside_the_memory_names_the_file_and_variable(user_game):
    def far(data):
        data["info"]["far"] = {"address": 0x7FFFFFF0, "type": "|u1"}
        return data

    root = user_game(data=far, scenario={"reward": {"variables": {"far": {"reward": 1.0}}}})
    with pytest.raises(IntegrationError, match=r"data\.json: info\.far"):
        _make("MyAir-Genesis", game_path=str(root))


# -- movies ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_emv(tmp_path_factory) -> bytes:
    rng = np.random.default_rng(3)
    m = Movie("Airstriker-Genesis", "Genesis", ["B", "A", "C"], (rng.random((30, 1, 3)) < 0.4).astype(np.uint8),
              start_state=b"state" * 10)
    path = tmp_path_factory.mktemp("emv") / "m.emv"
    m.save(path)
    return path.read_bytes()


def test_every_byte_of_an_emv_damaged_is_a_movie_error(small_emv, tmp_path):
    """Each byte of a small .emv inverted in turn (bad deflate data was a zlib.error), and the
    file cut at every length: MovieError naming the file, or (a byte no reader checks) a read."""
    path = tmp_path / "d.emv"
    messages = []
    for i in range(len(small_emv)):
        for data in (small_emv[:i] + bytes([small_emv[i] ^ 0xFF]) + small_emv[i + 1:], small_emv[:i]):
            path.write_bytes(data)
            try:
                Movie.load(path)
            except MovieError as exc:
                assert "d.emv" in str(exc)
                messages.append(str(exc))
    assert any("damaged in the archive" in m for m in messages)  # the zlib.error case
    assert any("not a valid emurl movie" in m for m in messages)


def test_a_damaged_member_is_a_movie_error_not_zlib_error(small_emv, tmp_path):
    with zipfile.ZipFile(io.BytesIO(small_emv)) as z:
        info = z.getinfo("buttons.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)  # the member's deflate data
    data = bytearray(small_emv)
    data[start] = 0xFF  # BTYPE 11: a block type deflate does not have
    (tmp_path / "z.emv").write_bytes(bytes(data))
    with pytest.raises(MovieError, match=r"z\.emv: buttons\.npy: damaged in the archive"):
        Movie.load(tmp_path / "z.emv")


# -- a file where a folder is expected, and the reverse -------------------------------------------
def _cli_error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("emurl: error: ") and err.count("\n") == 1, err
    return err


def test_ghosts_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("mine")
    err = _cli_error(capsys, "mkds", "ghosts", str(FIXTURES / "mkds" / "neo.sav"), "--out", str(tmp_path / "taken"))
    assert "taken: is a file" in err and "expected a folder" in err
    assert (tmp_path / "taken").read_text() == "mine"


def test_video_out_that_is_a_folder(tmp_path):
    with pytest.raises(MovieError, match=r"out\.mp4: is a folder; expected the video file"):
        (tmp_path / "out.mp4").mkdir()
        write_video(iter([np.zeros((8, 8, 3), np.uint8)]), tmp_path / "out.mp4", 60)
    with pytest.raises(MovieError, match="cannot make its folder"):
        (tmp_path / "file").write_text("x")
        write_video(iter([np.zeros((8, 8, 3), np.uint8)]), tmp_path / "file" / "v.mp4", 60)


def test_dataset_out_that_is_a_file(tmp_path, capsys):
    rng = np.random.default_rng(3)
    Movie("Airstriker-Genesis", "Genesis", ["B", "A", "C"], (rng.random((30, 1, 3)) < 0.4).astype(np.uint8)).save(
        tmp_path / "m.emv")
    (tmp_path / "taken").write_text("mine")
    err = _cli_error(capsys, "dataset", "record", str(tmp_path / "m.emv"), "--out", str(tmp_path / "taken"),
                     "--no-progress")
    assert "taken: already exists" in err
    assert (tmp_path / "taken").read_text() == "mine"


def test_runs_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "runs").write_text("mine")
    err = _cli_error(capsys, "train", "--game", "MiniDoc-Nes", "--set", f"runs_dir={tmp_path / 'runs'}",
                     "--set", "total_steps=64", "--set", "num_envs=1", "--no-progress")
    assert "runs" in err and "is a file" in err
    assert (tmp_path / "runs").read_text() == "mine"


@pytest.mark.parametrize("error", [FileExistsError, NotADirectoryError, IsADirectoryError, FileNotFoundError])
def test_a_path_error_of_a_verb_is_one_line(monkeypatch, capsys, error):
    """What a verb raises for a path that is taken, or a file where a folder is expected or the
    reverse (e.g. `emurl bc --out` of an existing path), is one line, not a traceback."""
    def verb(args):
        raise error(f"{args.movie}: the path's trouble")

    monkeypatch.setattr(emurl.cli.movies, "_replay", verb)
    assert "some.emv: the path's trouble" in _cli_error(capsys, "replay", "some.emv")


def test_a_movie_path_that_is_a_folder(tmp_path, capsys):
    for name in ("m.emv", "m.bk2", "m.dsm"):
        (tmp_path / name).mkdir()
        with pytest.raises(MovieError, match=rf"{name}: "):
            emurl.movies.load_movie(tmp_path / name)


def test_a_state_path_that_is_a_folder(user_states):
    (user_states / "Dir.state").mkdir()
    with pytest.raises(EmurlError, match=r"Dir\.state"):
        _make("MiniDoc-Nes", state="Dir")
