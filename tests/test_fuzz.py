"""Fuzz tests: every kind of file emurl reads, damaged at random, ends in an EmurlError
naming the file, or reads; never another exception (issue 21, item 8).

Each kind starts from a real file (an integration's JSON files, a savestate, a Mario Kart
DS save, movies written by emurl's own writers, a preset training config, a dataset, a
checkpoint) and Hypothesis damages it: cut short at a random byte, random bytes flipped,
random bytes instead, or, for the JSON and YAML kinds, one value of the parsed document
replaced by a random JSON value or removed (so that the reader's type checks are tried,
not only its parser). Archives (.emv, .bk2, datasets) are also damaged inside a member and
zipped again, so that the member's parser is reached past the zip's CRC check.

Readers are called as emurl calls them, without an emulator (loading a damaged state INTO an
emulator is tests/test_readers.py's). The example counts per kind are ``EXAMPLES`` below;
docs/reliability.md lists them.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import shutil
import zipfile
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emurl.cli.learn import _dataset_info
from emurl.errors import EmurlError, UnknownStateError
from emurl.fileio import read_state, write_state
from emurl.games.integration import load_integration_folder
from emurl.games.scenario import load_scenario
from emurl.imitation.datasets import FORMAT, FORMAT_VERSION, load_dataset
from emurl.movies import load_movie
from emurl.movies.bk2 import system_buttons, write_bk2
from emurl.movies.dsm import DSM_BUTTONS, write_dsm
from emurl.movies.mkds_ghosts import read_ghosts
from emurl.movies.movie import Movie
from emurl.states.scripts import load_scripts, script_frames
from emurl.train.config import TrainConfig, build_config

GAMES = Path(__file__).resolve().parents[1] / "src" / "emurl" / "games" / "data"
CONFIGS = Path(__file__).resolve().parents[1] / "src" / "emurl" / "configs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

EXAMPLES = {
    "data.json": 300, "scenario.json": 300, "metadata.json": 300, "start_states.json": 300, "state": 300,
    "save": 200, "emv": 400, "bk2": 300, "dsm": 300, "config": 300, "dataset": 300, "checkpoint": 200,
}
"""Hypothesis examples per file kind (docs/reliability.md's counts)."""


def fuzz(kind: str):
    """Settings for one kind: its example count, no deadline (a first example pays imports),
    no example database in the repository (a failure prints its input), no health-check
    failure for a slow reader or a large seed file."""
    return settings(max_examples=EXAMPLES[kind], deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- damage ------------------------------------------------------------------------------
def _flip(data: bytes, flips) -> bytes:
    out = bytearray(data)
    for pos, xor in flips:
        out[pos % len(out)] ^= xor
    return bytes(out)


def damaged(data: bytes, region: tuple[int, int] | None = None) -> st.SearchStrategy[bytes]:
    """``data`` cut short, with 1-8 bytes flipped (within ``region`` = (start, end) if
    given), or random bytes instead."""
    lo, hi = region or (0, len(data))
    truncated = st.integers(0, len(data) - 1).map(lambda n: data[:n])
    flipped = st.lists(st.tuples(st.integers(lo, hi - 1), st.integers(1, 255)), min_size=1, max_size=8).map(
        lambda flips: _flip(data, flips))
    return st.one_of(truncated, flipped, st.binary(max_size=256))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8)
    | st.sampled_from(["0x10", "0xFFFFFFFFFF", "-1", "<u4", "|u1", "fx32", "delta", "any", "x.py:Y"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
"""Any JSON value (NaN and infinities too: Python's json reads them), a few that look valid."""


def _paths(obj, prefix=()):
    yield prefix
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        yield from _paths(v, prefix + (k,))


@st.composite
def edited(draw, doc):
    """``doc`` (a parsed JSON/YAML document) with one value replaced by a random one, or removed."""
    paths = list(_paths(doc))
    path = draw(st.sampled_from(paths))
    new = copy.deepcopy(doc)
    if not path:
        return draw(JSON_VALUES)
    parent = new
    for k in path[:-1]:
        parent = parent[k]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return new


def json_damage(data: bytes) -> st.SearchStrategy[bytes]:
    """Byte damage of a JSON file, or one value of it edited."""
    edits = edited(json.loads(data)).map(lambda d: json.dumps(d, allow_nan=True).encode())
    return st.one_of(damaged(data), edits, edits)


def rezip(data: bytes, member: str, new: bytes) -> bytes:
    """The zip archive ``data`` with ``member``'s bytes replaced (deflated, as emurl writes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, new if name == member else src.read(name))
    return out.getvalue()


def member_damage(data: bytes, strategies: dict[str, st.SearchStrategy[bytes]]) -> st.SearchStrategy[bytes]:
    """Archive ``data`` damaged as a whole, or one member damaged by its strategy and zipped again."""
    inner = [s.map(lambda new, m=m: rezip(data, m, new)) for m, s in strategies.items()]
    return st.one_of(damaged(data), *inner)


def ends_in_emurl_error_or_reads(read, path: Path, naming_the_game=()):
    """Call ``read()``; an error must be an EmurlError whose message names the file (or, for
    the ``naming_the_game`` error classes, the integration's folder)."""
    try:
        return read()
    except EmurlError as exc:
        named = path.parent.name if isinstance(exc, naming_the_game) else path.name
        assert named in str(exc), f"the error does not name {named}: {exc}"
        return None


# -- integration files ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _integration_copy(work: Path, game: str, files, name: str | None = None) -> Path:
    """A copy of ``files`` of the integration ``game`` in ``work/name`` (made once)."""
    folder = work / (name or game)
    if not folder.exists():
        folder.mkdir()
        for f in files:
            shutil.copy(GAMES / game / f, folder / f)
    return folder


MINIDOC = ("data.json", "scenario.json", "metadata.json", "drmario.py", "start_states.json", "1P_L0_Low.state",
           "2P_L0_Low.state", "2P_L5_Med.state", "rom.sha")


@given(data=st.data())
@fuzz("data.json")
def test_damaged_data_json(work, data):
    folder = _integration_copy(work, "MiniDoc-Nes", MINIDOC)
    original = (GAMES / "MiniDoc-Nes" / "data.json").read_bytes()
    (folder / "data.json").write_bytes(data.draw(json_damage(original)))

    def read():
        integ = load_integration_folder(folder, "MiniDoc-Nes", "user")
        integ.scenario()
        return integ

    try:
        ends_in_emurl_error_or_reads(read, folder / "data.json")
    finally:
        (folder / "data.json").write_bytes(original)


@given(data=st.data())
@fuzz("scenario.json")
def test_damaged_scenario_json(work, data):
    folder = _integration_copy(work, "MiniDoc-Nes", [], "scenario")
    original = json.loads((GAMES / "MiniDoc-Nes" / "scenario.json").read_text())
    original["reward"] = {"variables": {"viruses_p1": {"reward": 1.0, "op": "less-than", "reference": 3}},
                          "time": {"penalty": 0.1}}
    original["done"] = {"condition": "any", "variables": {"mode": {"op": "equal", "reference": 5}},
                        "nodes": {"both": {"condition": "all", "variables": {"viruses_p1": {"op": "zero"}}}}}
    original.update(crop=[0, 8, 256, 224], info=["mode"], actions=[[[], ["LEFT"], ["RIGHT"]]])
    original.pop("python", None)
    raw = json.dumps(original).encode()
    path = folder / "scenario.json"
    path.write_bytes(data.draw(json_damage(raw)))
    ends_in_emurl_error_or_reads(lambda: load_scenario(str(path), {"viruses_p1", "mode"}), path)


@given(data=st.data())
@fuzz("metadata.json")
def test_damaged_metadata_json(work, data):
    folder = _integration_copy(work, "MiniDoc-Nes", MINIDOC)
    original = (GAMES / "MiniDoc-Nes" / "metadata.json").read_bytes()
    (folder / "metadata.json").write_bytes(data.draw(json_damage(original)))

    def read():
        integ = load_integration_folder(folder, "MiniDoc-Nes", "user")
        integ.players, integ.default_state, integ.features(), integ.placement()
        integ.load_state_bytes()

    try:  # a default_state that is no state: UnknownStateError lists the states and where they are
        ends_in_emurl_error_or_reads(read, folder / "metadata.json", naming_the_game=UnknownStateError)
    finally:
        (folder / "metadata.json").write_bytes(original)


@given(data=st.data())
@fuzz("start_states.json")
def test_damaged_start_states_json(work, data):
    folder = _integration_copy(work, "MiniDoc-Nes", ["start_states.json"], "scripts")
    original = (GAMES / "MiniDoc-Nes" / "start_states.json").read_bytes()
    (folder / "start_states.json").write_bytes(data.draw(json_damage(original)))

    class Integ:  # what load_scripts asks of an integration
        pass

    integ = Integ()
    integ.folder = folder

    def read():
        for name, script in load_scripts(integ).items():
            script_frames([s for s in script if not (isinstance(s, dict) and "until" in s)],
                          where=f"{folder / 'start_states.json'}: {name}")

    ends_in_emurl_error_or_reads(read, folder / "start_states.json")


# -- savestates and saves ------------------------------------------------------------------
@given(data=st.data())
@fuzz("state")
def test_damaged_state_file(work, data):
    original = (GAMES / "MiniDoc-Nes" / "1P_L0_Low.state").read_bytes()
    path = work / "Damaged.state"
    path.write_bytes(data.draw(damaged(original)))
    state = ends_in_emurl_error_or_reads(lambda: read_state(path), path)
    assert state is None or isinstance(state, bytes)


def test_state_round_trip_is_what_the_fuzz_damages(work):
    """The seed is a real gzip savestate that reads back to the bytes written."""
    raw = read_state(GAMES / "MiniDoc-Nes" / "1P_L0_Low.state")
    assert raw and (GAMES / "MiniDoc-Nes" / "1P_L0_Low.state").read_bytes()[:2] == b"\x1f\x8b"
    assert read_state(write_state(work / "again.state", raw)) == raw


GHOSTS = (0xAF00, 0xAF00 + 32 * 0xE00)  # the ghost slots of a Mario Kart DS save (emurl.movies.mkds_ghosts)


@given(data=st.data())
@fuzz("save")
def test_damaged_mkds_save(work, data):
    original = (FIXTURES / "mkds" / "abel.sav").read_bytes()[:0x40000]
    path = work / "damaged.sav"
    path.write_bytes(data.draw(st.one_of(damaged(original, GHOSTS), damaged(original))))

    def read():
        for slot in read_ghosts(path):
            if slot.status == "ok":
                slot.ghost.to_movie()

    ends_in_emurl_error_or_reads(read, path)


# -- movies --------------------------------------------------------------------------------
def _genesis_movie(**kw) -> Movie:
    rng = np.random.default_rng(0)
    names = system_buttons("Genesis")
    return Movie("Airstriker-Genesis", "Genesis", names, (rng.random((40, 2, len(names))) < 0.3).astype(np.uint8),
                 rom_sha1="ab" * 20, backend="retro", **kw)


def _ds_movie() -> Movie:
    rng = np.random.default_rng(1)
    touch = np.stack([rng.integers(0, 256, 40), rng.integers(0, 192, 40), rng.integers(0, 2, 40)], 1).astype(np.int16)
    return Movie(None, "NintendoDs", list(DSM_BUTTONS), (rng.random((40, 1, len(DSM_BUTTONS))) < 0.2).astype(np.uint8),
                 touch=touch, sram=bytes(range(256)) * 4, backend="desmume")


class Seeds(dict):
    """File name → bytes, shown by name only in a failure report (not kilobytes of bytes)."""

    def __repr__(self) -> str:
        return f"Seeds({', '.join(self)})"


@pytest.fixture(scope="module")
def movies(work) -> Seeds:
    """A real file of each movie format, written by emurl's writers."""
    folder = work / "movies"
    folder.mkdir()
    genesis = _genesis_movie(start_state=b"\x00state\xff" * 50, sram=b"\xaa" * 64, metadata={"note": [1, 2]})
    genesis.save(folder / "m.emv")
    _ds_movie().save(folder / "ds.emv")
    write_bk2(_genesis_movie(start_state=b"core state" * 20), folder / "m.bk2")
    write_dsm(_ds_movie(), folder / "m.dsm")
    return Seeds({f.name: f.read_bytes() for f in folder.iterdir()})


def _member(archive: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return z.read(name)


@given(data=st.data())
@fuzz("emv")
def test_damaged_emv(work, movies, data):
    seed = movies[data.draw(st.sampled_from(["m.emv", "ds.emv"]))]
    header = _member(seed, "header.json")
    buttons = _member(seed, "buttons.npy")
    path = work / "damaged.emv"
    path.write_bytes(data.draw(member_damage(seed, {"header.json": json_damage(header),
                                                    "buttons.npy": damaged(buttons)})))
    ends_in_emurl_error_or_reads(lambda: load_movie(path), path)


@given(data=st.data())
@fuzz("bk2")
def test_damaged_bk2(work, movies, data):
    seed = movies["m.bk2"]
    path = work / "damaged.bk2"
    path.write_bytes(data.draw(member_damage(seed, {"Header.txt": damaged(_member(seed, "Header.txt")),
                                                    "Input Log.txt": damaged(_member(seed, "Input Log.txt"))})))
    ends_in_emurl_error_or_reads(lambda: load_movie(path), path)


@given(data=st.data())
@fuzz("dsm")
def test_damaged_dsm(work, movies, data):
    seed = movies["m.dsm"]
    path = work / "damaged.dsm"
    path.write_bytes(data.draw(damaged(seed)))
    ends_in_emurl_error_or_reads(lambda: load_movie(path), path)


# -- training configs ------------------------------------------------------------------------
@given(data=st.data())
@fuzz("config")
def test_damaged_train_config(work, data):
    original = (CONFIGS / "MiniDoc-Nes.yaml").read_bytes()
    edits = edited(yaml.safe_load(original)).map(lambda d: yaml.safe_dump(d).encode())
    path = work / "damaged.yaml"
    path.write_bytes(data.draw(st.one_of(damaged(original), edits, edits)))
    ends_in_emurl_error_or_reads(lambda: build_config(None, str(path), {}), path)


# -- datasets ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dataset(work) -> Path:
    """A small dataset folder as ``emurl dataset record`` writes one (obs 4x8x8)."""
    folder = work / "dataset"
    folder.mkdir()
    n, rng = 24, np.random.default_rng(2)
    arrays = {
        "obs": rng.integers(0, 256, (n, 4, 8, 8), dtype=np.uint8), "actions": rng.integers(0, 3, n),
        "rewards": rng.random(n, dtype=np.float32), "terminations": np.zeros(n, bool),
        "truncations": np.zeros(n, bool), "episode_starts": np.eye(1, n, dtype=bool)[0],
        "episode": np.zeros(n, np.int32), "frames": np.arange(n, dtype=np.int64) * 4, "info_mode": np.ones(n),
    }
    np.savez_compressed(folder / "data.npz", **arrays)
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "game": "MiniDoc-Nes", "system": "Nes", "backend": "retro",
        "action_set": "discrete", "combos": [[], ["LEFT"], ["RIGHT"]], "buttons": ["LEFT", "RIGHT"],
        "pipeline": "atari", "frame_skip": 4, "observation": {"shape": [4, 8, 8], "dtype": "uint8"},
        "config": {"game": "MiniDoc-Nes"}, "state": None, "info_keys": ["mode"],
        "movies": [{"path": "a.emv", "steps": n, "unmatched_frames": 0, "mixed_steps": 0, "terminated": False}],
        "counts": {"steps": n, "episodes": 1, "frames": 4 * n, "frames_used": 4 * n, "frames_dropped": 0,
                   "unmatched_frames": 0, "mixed_steps": 0, "action_histogram": [8, 8, 8]},
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return folder


@given(data=st.data())
@fuzz("dataset")
def test_damaged_dataset(work, dataset, data):
    folder = work / "damaged-dataset"
    if not folder.exists():
        shutil.copytree(dataset, folder)
    npz, meta = (dataset / "data.npz").read_bytes(), (dataset / "meta.json").read_bytes()
    which = data.draw(st.sampled_from(["data.npz", "meta.json"]))
    if which == "data.npz":
        new = data.draw(member_damage(npz, {"actions.npy": damaged(_member(npz, "actions.npy")),
                                            "obs.npy": damaged(_member(npz, "obs.npy"), (0, 128))}))
    else:
        new = data.draw(json_damage(meta))
    (folder / which).write_bytes(new)

    def read():  # what `emurl dataset info` and `emurl bc` read
        _dataset_info(argparse.Namespace(dataset=str(folder)))
        load_dataset(folder).episodes()

    try:
        ends_in_emurl_error_or_reads(read, folder)  # the file, or the other one when they disagree
    finally:
        (folder / "data.npz").write_bytes(npz)
        (folder / "meta.json").write_bytes(meta)


# -- checkpoints ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(work):
    """A real PPO checkpoint (Stable-Baselines3's zip) of a tiny MLP policy, and its config."""
    # lazy: PyTorch + Stable-Baselines3, 1.7 s to import (emurl.cli.learn), needed by this kind only
    from stable_baselines3 import PPO

    from emurl.train.model import save_checkpoint

    env = gymnasium.make("CartPole-v1")
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, policy_kwargs={"net_arch": [8]}, device="cpu")
    path = save_checkpoint(model, work / "ckpt.zip")
    env.close()
    return path.read_bytes(), TrainConfig(algo="ppo", device="cpu")


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's remarks on what it finds in a damaged pickle
@given(data=st.data())
@fuzz("checkpoint")
def test_damaged_checkpoint(work, checkpoint, data):
    from emurl.train.model import load_model  # lazy: see the checkpoint fixture

    seed, cfg = checkpoint
    path = work / "damaged-ckpt.zip"
    members = {m: damaged(_member(seed, m)) for m in ("data", "policy.pth", "pytorch_variables.pth")}
    path.write_bytes(data.draw(member_damage(seed, members)))
    ends_in_emurl_error_or_reads(lambda: load_model(cfg, path), path)
