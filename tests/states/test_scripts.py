"""The one start-state mechanism on the fake console of ``tests/fakes.py`` (no ROM): savestate
file names and reading, ``until`` conditions and timeouts, and ``make_start_state`` with
its hooks, files and stamp."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest

from emurl.errors import IntegrationError
from emurl.fileio import BACKENDS, parse_state_file_name, read_state, state_file_name, write_state
from emurl.games import load_integration
from emurl.games.variables import Variable
from emurl.states.scripts import StartStateError, load_scripts, make_start_state, run_script, script_frames
from fakes import DATA, GAME, FakeEmulator, write_integration


@pytest.fixture
def integ(tmp_path, monkeypatch):
    """The fake game's integration, with a user data folder of its own."""
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    return load_integration(GAME, game_path=str(write_integration(tmp_path / "games")))


def test_state_file_names_round_trip_and_read_back(tmp_path):
    import emurl.emulators

    assert emurl.emulators.BACKENDS is BACKENDS == ("retro", "desmume", "melonds")
    for backend in ("desmume", "melonds"):
        assert state_file_name("Track0", backend) == f"Track0.{backend}.state"
        assert parse_state_file_name(state_file_name("Track0", backend)) == ("Track0", backend)
    # stable-retro's states keep its plain name, so its own tools load ours too
    assert state_file_name("Start", "retro") == "Start.state" and parse_state_file_name("Start.retro.state") == ("Start", "retro")
    assert state_file_name("Level1") == "Level1.state" and parse_state_file_name("Level1.state") == ("Level1", None)
    assert parse_state_file_name("some/folder/yf.fake.state") == ("yf.fake", None)  # not a backend: part of the name
    for bad in ("Level1.json", ".state", "Level1"):
        with pytest.raises(ValueError, match="not a savestate file name"):
            parse_state_file_name(bad)

    data = bytes(range(256)) * 40
    path = write_state(tmp_path / state_file_name("s", "desmume"), data)
    assert path.read_bytes()[:2] == b"\x1f\x8b" and read_state(path) == data
    assert write_state(tmp_path / "again.state", data).read_bytes() == path.read_bytes()  # no timestamp inside
    (tmp_path / "plain.state").write_bytes(data)
    assert read_state(tmp_path / "plain.state") == data


def test_integration_lists_states_by_backend(integ):
    folder = integ.user_state_dir()
    for name, backend, payload in (("mine", "desmume", b"D"), ("mine", "melonds", b"M"), ("plain", None, b"P"),
                                   ("_scratch", "desmume", b"_"), ("a.b", None, b"AB")):
        write_state(folder / state_file_name(name, backend), payload)
    assert {"mine", "plain", "a.b", "Start", "LastLife"} == set(integ.states("desmume"))
    assert integ.load_state_bytes("mine", "desmume") == b"D" and integ.load_state_bytes("mine", "melonds") == b"M"
    assert {"mine.desmume", "mine.melonds", "plain", "a.b"} <= set(integ.states())
    assert integ.load_state_bytes("plain", "retro") == b"P"
    assert integ.load_state_bytes("Start") == FakeEmulator().save_state()  # the shipped gzip state


def test_until_conditions_count_frames_and_time_out():
    emu = FakeEmulator()
    v = {k: Variable.from_json(k, spec, "fake data.json") for k, spec in DATA["info"].items()}
    assert run_script(emu, [{"until": {"frame": 5}}], v) == 5 and emu.peek("frame") == 5
    assert run_script(emu, [{"until": {"frame": 5, "lives": 3}}], v) == 0  # already met: no frame run
    assert run_script(emu, [{"until": {"frame": {"op": "greater-than", "reference": 9}}}], v) == 5
    assert run_script(emu, [{"until": {"frame": 15}, "timeout": 5}], v) == 5  # met on the last frame allowed
    assert run_script(emu, [{"until": {"frame": {"op": "nonzero"}}}], v) == 0

    before = emu.frames_run  # timeout_seconds: game time at the emulator's 60 frames/s
    with pytest.raises(StartStateError, match=r"script\[1\]: \{'lives': 0\} not reached within 30 frames "
                                              r"\(now \{'lives': 3\}\): the B button does it"):
        run_script(emu, [{"wait": 1}, {"until": {"lives": 0}, "timeout_seconds": 0.5, "hint": "the B button does it"}],
                   v, where="script")
    assert emu.frames_run - before == 31
    with pytest.raises(StartStateError, match=r"\[0\]\.until\.frame: expected a value or \{\"op\""):
        run_script(emu, [{"until": {"frame": {"op": "bigger", "reference": 1}}}], v)
    with pytest.raises(StartStateError, match=r"\[0\]\.until: unknown variable\(s\) \['nope'\]"):
        run_script(emu, [{"until": {"nope": 1}}], v)
    with pytest.raises(StartStateError, match=r"\[0\]\.until: unknown variable"):
        run_script(emu, [{"until": {"frame": 1}}])  # no variables given


def test_make_start_state_runs_hooks_and_writes_a_stamped_state(integ, tmp_path):
    rom = tmp_path / "rom.bin"
    rom.write_bytes(b"a fake ROM")
    fake = FakeEmulator()
    seen = []
    script = [{"wait": 2}, {"press": "A", "frames": 3}, {"until": {"frame": 10}}]

    made = make_start_state(
        integ, "AfterA", script, None, out_dir=tmp_path / "out", rom=str(rom),
        prepare=lambda emu: seen.append(("prepare", emu.frames_run)),
        check=lambda emu: seen.append(("check", emu.frames_run)) or [],
        stamp=lambda emu: {"score": emu.peek("score")},
        open_emulator=lambda path, system, backend: seen.append((path, system, backend)) or fake,
    )
    assert seen == [(str(rom), "Fake", None), ("prepare", 0), ("check", 10)] and fake.closed
    assert made.name == "AfterA" and made.path == tmp_path / "out" / "AfterA.fake.state"
    assert made.path.read_bytes()[:2] == b"\x1f\x8b" and gzip.decompress(made.path.read_bytes()) == fake.save_state()
    record = json.loads(made.sidecar.read_text())
    assert made.sidecar == tmp_path / "out" / "AfterA.fake.json" and record == made.record
    assert {k: record[k] for k in ("game", "state", "backend", "core", "frames_from_power_on", "score")} == {
        "game": GAME, "state": "AfterA", "backend": "fake", "core": "fake", "frames_from_power_on": 10, "score": 3}
    assert record["rom_sha1"] == hashlib.sha1(b"a fake ROM").hexdigest() and record["script"] == script
    assert record["emurl_version"] and record["created"]

    # a check that fails: one StartStateError with every problem and a screenshot; no state
    fake = FakeEmulator()
    with pytest.raises(StartStateError, match=r"lives 3, expected 0; score 0 \(screenshot: .*Bad\.fake\.failed\.png\)"):
        make_start_state(integ, "Bad", [{"wait": 4}], "retro", out_dir=tmp_path / "out", rom=str(rom),
                         check=lambda emu: ["lives 3, expected 0", "score 0"], open_emulator=lambda *a: fake)
    assert fake.closed and (tmp_path / "out" / "Bad.fake.failed.png").is_file()
    assert not (tmp_path / "out" / "Bad.fake.state").exists()
    # a script error names the game, the state, the backend and the step; default folder: the user's
    with pytest.raises(StartStateError, match=rf"^{GAME} Bad script \(fake emulator\)\[0\]: unknown button 'Z'") as err:
        make_start_state(integ, "Bad", [{"press": "Z"}], None, screenshot_on_failure=False, rom=str(rom),
                         open_emulator=lambda *a: FakeEmulator())
    assert "screenshot" not in str(err.value) and not integ.user_state_dir().exists()


def test_load_scripts_reads_start_states_json(tmp_path):
    scripts = {"Go": [{"wait": 3}, {"press": ["A", "RIGHT"], "frames": 2, "repeat": 2, "gap": 1}]}
    root = write_integration(tmp_path / "ok", files={"start_states.json": scripts})
    integ = load_integration(GAME, game_path=str(root))
    assert load_scripts(integ) == scripts
    assert script_frames(scripts["Go"]) == [(), (), (), ("A", "RIGHT"), ("A", "RIGHT"), (), ("A", "RIGHT"), ("A", "RIGHT"), ()]
    emu = FakeEmulator()
    assert run_script(emu, scripts["Go"]) == 9 and emu.peek("x") == 64 + 4 and np.all(emu.pressed[0] == 0)
    for bad, words in (("{", "not valid JSON"), (json.dumps({"Go": {"wait": 1}}), "expected")):
        root = write_integration(tmp_path / f"bad{len(words)}", files={"start_states.json": bad})
        with pytest.raises(IntegrationError, match=words):
            load_scripts(load_integration(GAME, game_path=str(root)))
    assert load_scripts(load_integration(GAME, game_path=str(write_integration(tmp_path / "none")))) == {}
